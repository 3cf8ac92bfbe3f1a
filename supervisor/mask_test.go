package main

import (
	"strings"
	"testing"
)

func streamed(values []string, pieces []string) string {
	m := newMasker(values)
	var out strings.Builder
	for _, p := range pieces {
		out.Write(m.push([]byte(p), false))
	}
	out.Write(m.push(nil, true))
	return out.String()
}

func TestMasksAValueSplitAtEveryPoint(t *testing.T) {
	text := "before s3cr3t-value after"
	for cut := 0; cut <= len(text); cut++ {
		if got := streamed([]string{"s3cr3t-value"}, []string{text[:cut], text[cut:]}); got != "before *** after" {
			t.Fatalf("cut at %d: %q", cut, got)
		}
	}
}

func TestMasksByteByByteAndOverlapping(t *testing.T) {
	var pieces []string
	for _, b := range []byte("x pässwörd y") {
		pieces = append(pieces, string([]byte{b}))
	}
	if got := streamed([]string{"pässwörd"}, pieces); got != "x *** y" {
		t.Fatalf("bytes: %q", got)
	}
	if got := streamed([]string{"abc", "abc123456"}, []string{"key=abc123456 short=abc"}); got != "key=*** short=***" {
		t.Fatalf("overlap: %q", got)
	}
	if got := streamed([]string{"abcdef"}, []string{"hello ab", "cx", "abc"}); got != "hello abcxabc" {
		t.Fatalf("held back: %q", got)
	}
}
