package launch

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (rerun with -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func request() Request {
	return Request{Study: "cifar-resnet", Workers: 4, Slots: 1, GPUsPerWorker: 1, CPUsPerWorker: 8, MaxConns: 2, HeartbeatGrace: 90 * time.Second}
}

func TestSlurmScript(t *testing.T) {
	cases := []struct {
		name string
		s    Slurm
	}{
		{"full", Slurm{Request: request(), Time: "4:00:00", Partition: "gpu", Requeue: true,
			Binary: "/opt/sweep/bin/sweep", DSNFile: "/home/me/.sweep-db", LogDir: "/scratch/me/logs"}},
		{"env-dsn", Slurm{Request: Request{Study: "demo synthetic", Workers: 1}, Binary: "/usr/local/bin/sweep"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := SlurmScript(c.s)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "slurm-"+c.name+".sbatch", []byte(got))
			if c.s.DSNFile != "" && !strings.Contains(got, "SWEEP_DB=@"+c.s.DSNFile) {
				t.Errorf("script does not read the DSN from %s", c.s.DSNFile)
			}
			if strings.Contains(got, "postgres://") {
				t.Error("script holds a DSN")
			}
		})
	}
}

func TestSlurmScript_Errors(t *testing.T) {
	ok := Slurm{Request: Request{Study: "s", Workers: 2}, Binary: "/bin/sweep"}
	cases := []struct {
		name string
		edit func(*Slurm)
		want string
	}{
		{"no study", func(s *Slurm) { s.Study = " " }, "launch: no study name"},
		{"no workers", func(s *Slurm) { s.Workers = 0 }, "launch: workers must be at least 1 (got 0)"},
		{"bad time", func(s *Slurm) { s.Time = "4h" }, `launch: time "4h": want minutes, H:MM:SS or D-HH:MM:SS`},
		{"relative dsn file", func(s *Slurm) { s.DSNFile = "db.dsn" }, `launch: DSN file "db.dsn": want an absolute path (tasks start elsewhere)`},
		{"partition injection", func(s *Slurm) { s.Partition = "gpu\n#SBATCH --x" }, `launch: partition "gpu\n#SBATCH --x": no spaces, quotes or #`},
		{"negative gpus", func(s *Slurm) { s.GPUsPerWorker = -1 }, "launch: resources must not be negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := ok
			c.edit(&s)
			_, err := SlurmScript(s)
			if err == nil || err.Error() != c.want {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func kubernetes() Kubernetes {
	return Kubernetes{Request: request(), Spec: []byte("name: cifar-resnet\ntrials: 200\n"), Image: "registry.example/sweep:1.0",
		Namespace: "ml", DBSecret: "sweep-db"}
}

func TestK8sManifests_Golden(t *testing.T) {
	got, err := K8sManifests(kubernetes())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "k8s-cifar-resnet.yaml", got)
}

// TestK8sManifests_StrictDecode decodes every document through the
// Kubernetes scheme with unknown and duplicate fields as errors, and checks
// what the Job promises.
func TestK8sManifests_StrictDecode(t *testing.T) {
	k := kubernetes()
	out, err := K8sManifests(k)
	if err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := batchv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ser := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{Yaml: true, Strict: true})
	docs := bytes.Split(out, []byte("\n---\n"))
	if len(docs) != 2 {
		t.Fatalf("got %d documents, want 2", len(docs))
	}
	var job *batchv1.Job
	for _, d := range docs {
		obj, _, err := ser.Decode(d, nil, nil)
		if err != nil {
			t.Fatalf("strict decode: %v\n%s", err, d)
		}
		if j, ok := obj.(*batchv1.Job); ok {
			job = j
		}
	}
	if job == nil {
		t.Fatal("no Job in the output")
	}
	s := job.Spec
	if *s.Parallelism != 4 || *s.Completions != 4 || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("parallelism %d completions %d mode %s, want 4 4 Indexed", *s.Parallelism, *s.Completions, *s.CompletionMode)
	}
	pod := s.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("restartPolicy %s", pod.RestartPolicy)
	}
	if g := *pod.TerminationGracePeriodSeconds; g < int64(k.HeartbeatGrace.Seconds()) {
		t.Errorf("terminationGracePeriodSeconds %d < heartbeat grace %s", g, k.HeartbeatGrace)
	}
	c := pod.Containers[0]
	if q := c.Resources.Limits["nvidia.com/gpu"]; q.Value() != 1 {
		t.Errorf("nvidia.com/gpu limit %s, want 1", q.String())
	}
	if ref := c.Env[0].ValueFrom.SecretKeyRef; c.Env[0].Name != "SWEEP_DB" || ref == nil || ref.Name != "sweep-db" {
		t.Errorf("SWEEP_DB does not come from Secret sweep-db: %+v", c.Env[0])
	}
	// A field the scheme does not know must fail, or the check above is void.
	bad := bytes.Replace(docs[1], []byte("restartPolicy:"), []byte("restartPolicyy: Never\n      restartPolicy:"), 1)
	if _, _, err := ser.Decode(bad, nil, nil); err == nil {
		t.Error("strict decode accepted an unknown field")
	}
}

// TestK8sManifests_KubectlDryRun validates the output with kubectl's
// client-side dry run, where kubectl is installed and works offline.
func TestK8sManifests_KubectlDryRun(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed")
	}
	out, err := K8sManifests(kubernetes())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.yaml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(kubectl, "create", "--dry-run=client", "--validate=false", "-o", "name", "-f", path)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "none"))
	got, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) && bytes.Contains(got, []byte("connect")) {
		t.Skipf("kubectl needs a server here: %s", got)
	}
	if err != nil {
		t.Fatalf("kubectl: %v\n%s", err, got)
	}
	if want := "configmap/sweep-cifar-resnet\njob.batch/sweep-cifar-resnet\n"; string(got) != want {
		t.Errorf("kubectl printed %q, want %q", got, want)
	}
}

func TestK8sManifests_Errors(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Kubernetes)
		want string
	}{
		{"no secret", func(k *Kubernetes) { k.DBSecret = "" }, "launch: no database secret (the DSN never goes into a manifest)"},
		{"no image", func(k *Kubernetes) { k.Image = "" }, "launch: no image"},
		{"too many", func(k *Kubernetes) { k.Workers = 20000 }, "launch: 20000 workers: at most 10000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := kubernetes()
			c.edit(&k)
			_, err := K8sManifests(k)
			if err == nil || err.Error() != c.want {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestDNSLabel(t *testing.T) {
	for in, want := range map[string]string{"CIFAR ResNet/v2": "cifar-resnet-v2", "--x--": "x", "": "study", "日本": "study"} {
		if got := dnsLabel(in, 40); got != want {
			t.Errorf("dnsLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
