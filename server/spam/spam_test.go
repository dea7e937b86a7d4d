package spam

import (
	"strings"
	"testing"
)

func TestFilterLearns(t *testing.T) {
	f := NewFilter(t.TempDir(), Corpus("ham"))
	msg := []byte(string(Corpus("spam")[0]))
	v, err := f.Classify("bob", msg)
	if err != nil {
		t.Fatal(err)
	}
	if v.Trained {
		t.Fatalf("an untrained filter judged: %+v", v)
	}
	for _, m := range Corpus("spam")[1:] {
		if _, err := f.Train("bob", m, true); err != nil {
			t.Fatal(err)
		}
	}
	v, _ = f.Classify("bob", msg)
	if !v.Trained || v.Prob < 0.99 {
		t.Errorf("after training on spam, a similar message scores %.3f", v.Prob)
	}
	h, _ := f.Classify("bob", Corpus("ham")[0])
	if h.Prob > 0.05 {
		t.Errorf("ordinary mail scores %.3f", h.Prob)
	}
	// Training twice is harmless; training the other way relearns.
	r, _ := f.Train("bob", Corpus("spam")[1], true)
	if r.Changed {
		t.Errorf("second training changed the filter: %+v", r)
	}
	r, _ = f.Train("bob", Corpus("spam")[1], false)
	if !r.Changed || !strings.Contains(r.Note, "relearnt as ham") {
		t.Errorf("moving out of Junk: %+v", r)
	}
	// The filter is kept on disk.
	g := NewFilter(f.Dir, nil)
	v2, _ := g.Classify("bob", msg)
	if v2.Spam != v.Spam-1 || v2.Ham != v.Ham+1 {
		t.Errorf("reloaded filter knows %d spam, %d ham; want %d, %d", v2.Spam, v2.Ham, v.Spam-1, v.Ham+1)
	}
}

func TestCombine(t *testing.T) {
	spammy := []Token{{Prob: 0.99}, {Prob: 0.95}, {Prob: 0.9}}
	hammy := []Token{{Prob: 0.01}, {Prob: 0.05}, {Prob: 0.1}}
	if p := Combine(spammy); p < 0.9 {
		t.Errorf("Combine(spammy) = %.3f", p)
	}
	if p := Combine(hammy); p > 0.1 {
		t.Errorf("Combine(hammy) = %.3f", p)
	}
	if p := Combine(append(spammy, hammy...)); p < 0.3 || p > 0.7 {
		t.Errorf("Combine(mixed) = %.3f, want uncertain", p)
	}
}

func TestScoreFields(t *testing.T) {
	var s Score
	s.Add("SPF_FAIL", 0, "")
	s.Add("DMARC_FAIL", 0, "")
	s.Finish(DefaultThreshold)
	if got := s.StatusField(); got != "X-Spam-Status: Yes, score=6.5 required=5.0 tests=DMARC_FAIL,SPF_FAIL\r\n" {
		t.Errorf("StatusField = %q", got)
	}
	if r := s.ReportField(); !strings.Contains(r, "3.5 DMARC_FAIL") || !strings.Contains(r, "3.0 SPF_FAIL") {
		t.Errorf("ReportField = %q", r)
	}
}
