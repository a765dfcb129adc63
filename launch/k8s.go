package launch

import (
	"bytes"
	"fmt"
	"math"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Kubernetes is a request for an Indexed Job of Workers pods, each running
// `sweep start` on the spec mounted from a ConfigMap: the first pod creates
// the study, the others find the same spec stored and join it.
type Kubernetes struct {
	Request
	// Spec is the study's YAML, stored in the ConfigMap as study.yaml.
	Spec []byte
	// Image holds the sweep binary on PATH (see the Dockerfile).
	Image string
	// Namespace of both objects; empty leaves kubectl's current one.
	Namespace string
	// DBSecret names the Secret whose key DBSecretKey holds the DSN, given
	// to the container as SWEEP_DB.
	DBSecret string
	// DBSecretKey is the key in DBSecret; empty means "dsn".
	DBSecretKey string
}

// k8sGraceMargin is added to the heartbeat grace for the pod's termination
// grace period: a draining worker finishes its trial's last writes.
const k8sGraceMargin = 30

// specPath is where the ConfigMap is mounted.
const specPath = "/etc/sweep"

// runDir keeps the workers' result journals across container restarts of
// one pod (an emptyDir lives as long as the pod).
const runDir = "/var/lib/sweep/runs"

// check validates the Kubernetes fields.
func (k Kubernetes) check() error {
	if err := k.Request.check(); err != nil {
		return err
	}
	switch {
	case len(k.Spec) == 0:
		return fmt.Errorf("launch: empty spec")
	case k.Image == "":
		return fmt.Errorf("launch: no image")
	case k.DBSecret == "":
		return fmt.Errorf("launch: no database secret (the DSN never goes into a manifest)")
	}
	return nil
}

// K8sManifests returns the ConfigMap and the Job as one YAML stream.
func K8sManifests(k Kubernetes) ([]byte, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	cm, job := k8sObjects(k)
	var out bytes.Buffer
	for i, obj := range []any{cm, job} {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("encode manifest: %w", err)
		}
		if i > 0 {
			out.WriteString("---\n")
		}
		out.Write(b)
	}
	return out.Bytes(), nil
}

// k8sObjects builds the two objects from k (already checked).
func k8sObjects(k Kubernetes) (*corev1.ConfigMap, *batchv1.Job) {
	name := "sweep-" + dnsLabel(k.Study, 40)
	labels := map[string]string{"app.kubernetes.io/name": "sweep", "app.kubernetes.io/instance": name}
	meta := metav1.ObjectMeta{Name: name, Namespace: k.Namespace, Labels: labels,
		Annotations: map[string]string{"sweep/study": k.Study}}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: meta,
		Data:       map[string]string{"study.yaml": string(k.Spec)},
	}
	n := int32(k.Workers)
	indexed := batchv1.IndexedCompletion
	grace := int64(math.Ceil(k.HeartbeatGrace.Seconds())) + k8sGraceMargin
	// A worker that finds the budget spent exits at once; one that keeps
	// failing (database gone) is retried by the kubelet, not forever.
	backoff := int32(6) * n
	job := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: meta,
		Spec: batchv1.JobSpec{
			Parallelism:    &n,
			Completions:    &n,
			CompletionMode: &indexed,
			BackoffLimit:   &backoff,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy:                 corev1.RestartPolicyOnFailure,
					TerminationGracePeriodSeconds: &grace,
					Containers:                    []corev1.Container{k8sContainer(k)},
					Volumes: []corev1.Volume{
						{Name: "spec", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: name}}}},
						{Name: "runs", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					},
				},
			},
		},
	}
	return cm, job
}

// k8sContainer is the worker container: sweep start on the mounted spec,
// SWEEP_DB from the Secret, the pod name for the worker id.
func k8sContainer(k Kubernetes) corev1.Container {
	key := k.DBSecretKey
	if key == "" {
		key = "dsn"
	}
	args := []string{"start", specPath + "/study.yaml"}
	args = append(args, k.workerArgs()[2:]...) // the same flags as sweep worker
	c := corev1.Container{
		Name:  "worker",
		Image: k.Image,
		Args:  args,
		Env: []corev1.EnvVar{
			{Name: "SWEEP_DB", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: k.DBSecret}, Key: key}}},
			{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "SWEEP_RUN_DIR", Value: runDir},
		},
		VolumeMounts: []corev1.VolumeMount{
			{Name: "spec", MountPath: specPath, ReadOnly: true},
			{Name: "runs", MountPath: runDir},
		},
	}
	res := corev1.ResourceRequirements{}
	if k.CPUsPerWorker > 0 {
		res.Requests = corev1.ResourceList{corev1.ResourceCPU: *resource.NewQuantity(int64(k.CPUsPerWorker), resource.DecimalSI)}
	}
	if k.GPUsPerWorker > 0 {
		// Extended resources are set as limits; requests default to them.
		res.Limits = corev1.ResourceList{"nvidia.com/gpu": *resource.NewQuantity(int64(k.GPUsPerWorker), resource.DecimalSI)}
	}
	if res.Requests != nil || res.Limits != nil {
		c.Resources = res
	}
	return c
}

// K8sName is the name both objects get for study, for messages.
func K8sName(study string) string { return "sweep-" + dnsLabel(strings.TrimSpace(study), 40) }
