package main

import (
	"bytes"
	"sort"
)

// masker replaces secret values with *** as output streams, also when a value arrives split across chunks:
// bytes that may begin a value are held back until the next chunk says whether they do. The same algorithm as
// src/mask.ts.
type masker struct {
	values [][]byte
	first  [256]bool
	carry  []byte
}

var maskText = []byte("***")

func newMasker(values []string) *masker {
	m := &masker{}
	seen := map[string]bool{}
	for _, v := range values {
		if v != "" && !seen[v] {
			seen[v] = true
			m.values = append(m.values, []byte(v))
			m.first[v[0]] = true
		}
	}
	// Longest first: of two values where one contains the other, the longer is masked whole.
	sort.SliceStable(m.values, func(i, j int) bool { return len(m.values[i]) > len(m.values[j]) })
	return m
}

// push returns what can be written now of chunk (with what was held back before it), masked; final says no
// more bytes will come.
func (m *masker) push(chunk []byte, final bool) []byte {
	if len(m.values) == 0 {
		return chunk
	}
	data := append(m.carry, chunk...)
	m.carry = nil
	var out bytes.Buffer
	from, i := 0, 0
scan:
	for i < len(data) {
		if !m.first[data[i]] {
			i++
			continue
		}
		for _, value := range m.values {
			rest := data[i:]
			if len(rest) >= len(value) {
				if bytes.Equal(rest[:len(value)], value) {
					out.Write(data[from:i])
					out.Write(maskText)
					i += len(value)
					from = i
					continue scan
				}
			} else if !final && bytes.Equal(rest, value[:len(rest)]) {
				out.Write(data[from:i])
				m.carry = append([]byte(nil), rest...)
				return out.Bytes()
			}
		}
		i++
	}
	out.Write(data[from:])
	return out.Bytes()
}
