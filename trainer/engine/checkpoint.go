package engine

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Checkpoint format (little endian), version 1:
//
//	magic    "SWEEPWT1" (8 bytes)
//	count    uint32, the number of tensors
//	count times:
//	  nameLen uint16, name (UTF-8, nameLen bytes)
//	  rank    uint8, then rank × uint32 dimensions
//	  data    float32 × Π dimensions, row-major
//
// Tensors are the model's parameters followed by its buffers (batch-norm
// running statistics), in model order. Load matches them by name and checks
// every shape, so a checkpoint only loads into the architecture that wrote it.
const checkpointMagic = "SWEEPWT1"

// Save writes ps in the checkpoint format.
func Save(w io.Writer, b Backend, ps []*Param) error {
	if err := CheckNames(ps); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(checkpointMagic)
	binary.Write(bw, binary.LittleEndian, uint32(len(ps)))
	for _, p := range ps {
		binary.Write(bw, binary.LittleEndian, uint16(len(p.Name)))
		bw.WriteString(p.Name)
		r := p.Value.Shape.Rank()
		bw.WriteByte(byte(r))
		for i := 0; i < r; i++ {
			binary.Write(bw, binary.LittleEndian, uint32(p.Value.Shape[i]))
		}
		var buf [4]byte
		for _, v := range ToHost(b, p.Value) {
			binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
			bw.Write(buf[:])
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// Load reads a checkpoint into ps. Every tensor of ps must appear once with
// its exact shape and nothing else may; otherwise Load returns an error
// wrapping ErrCheckpoint that names the tensor, and ps is left unchanged.
func Load(r io.Reader, b Backend, ps []*Param) error {
	br := bufio.NewReader(r)
	magic := make([]byte, len(checkpointMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != checkpointMagic {
		return fmt.Errorf("load checkpoint: not a sweep weights file (magic %q): %w", magic, ErrCheckpoint)
	}
	var count uint32
	if err := binary.Read(br, binary.LittleEndian, &count); err != nil {
		return fmt.Errorf("load checkpoint: read count: %w", err)
	}
	byName := make(map[string]*Param, len(ps))
	for _, p := range ps {
		byName[p.Name] = p
	}
	if int(count) != len(ps) {
		return fmt.Errorf("load checkpoint: %d tensors, model has %d: %w", count, len(ps), ErrCheckpoint)
	}
	data := make(map[*Param][]float32, len(ps))
	for i := 0; i < int(count); i++ {
		name, s, vals, err := readTensor(br)
		if err != nil {
			return fmt.Errorf("load checkpoint: tensor %d: %w", i, err)
		}
		p, ok := byName[name]
		if !ok {
			return fmt.Errorf("load checkpoint: model has no tensor %q: %w", name, ErrCheckpoint)
		}
		if _, dup := data[p]; dup {
			return fmt.Errorf("load checkpoint: tensor %q twice: %w", name, ErrCheckpoint)
		}
		if s != p.Value.Shape {
			return fmt.Errorf("load checkpoint: tensor %q has shape %v, model %v: %w", name, s, p.Value.Shape, ErrCheckpoint)
		}
		data[p] = vals
	}
	for p, v := range data {
		b.CopyIn(p.Value, v)
	}
	return nil
}

func readTensor(br *bufio.Reader) (string, Shape, []float32, error) {
	var n uint16
	if err := binary.Read(br, binary.LittleEndian, &n); err != nil {
		return "", Shape{}, nil, fmt.Errorf("read name length: %w", err)
	}
	name := make([]byte, n)
	if _, err := io.ReadFull(br, name); err != nil {
		return "", Shape{}, nil, fmt.Errorf("read name: %w", err)
	}
	rank, err := br.ReadByte()
	if err != nil || rank > MaxRank {
		return "", Shape{}, nil, fmt.Errorf("read rank of %q (%d): %w", name, rank, errors.Join(err, ErrCheckpoint))
	}
	var s Shape
	for i := 0; i < int(rank); i++ {
		var d uint32
		if err := binary.Read(br, binary.LittleEndian, &d); err != nil {
			return "", Shape{}, nil, fmt.Errorf("read shape of %q: %w", name, err)
		}
		if d == 0 || d > 1<<28 {
			return "", Shape{}, nil, fmt.Errorf("tensor %q dimension %d: %w", name, d, ErrCheckpoint)
		}
		s[i] = int(d)
	}
	raw := make([]byte, 4*s.Numel())
	if _, err := io.ReadFull(br, raw); err != nil {
		return "", Shape{}, nil, fmt.Errorf("read data of %q: %w", name, err)
	}
	vals := make([]float32, s.Numel())
	for i := range vals {
		vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return string(name), s, vals, nil
}
