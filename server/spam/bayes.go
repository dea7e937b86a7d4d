package spam

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Robinson's and Fisher's constants, as SpamAssassin and bogofilter use them.
const (
	// robinsonS is the strength of the prior: how many messages' worth of
	// belief the unknown probability robinsonX carries (Robinson's s).
	robinsonS = 1.0
	// robinsonX is the probability assumed for a token never seen (x).
	robinsonX = 0.5
	// minDev drops tokens whose probability is within this of 0.5: they
	// say nothing and only dilute the combination.
	minDev = 0.1
	// maxInteresting is how many of the most telling tokens are combined.
	maxInteresting = 150
	// maxTrained bounds the messages remembered per user (to untrain a
	// message moved out of Junk); the oldest are forgotten first.
	maxTrained = 5000
)

// Counts are how many trained spam and ham messages held a token.
type Counts struct {
	Spam int `json:"s"`
	Ham  int `json:"h"`
}

// DB is one user's filter: token counts and the messages trained.
type DB struct {
	Spam    int               `json:"spam"`
	Ham     int               `json:"ham"`
	Tokens  map[string]Counts `json:"tokens"`
	Trained map[string]bool   `json:"trained"` // message hash → trained as spam
	Order   []string          `json:"order"`   // message hashes, oldest first
}

func newDB() *DB { return &DB{Tokens: map[string]Counts{}, Trained: map[string]bool{}} }

// Token is one token's part in a verdict.
type Token struct {
	Token string  `json:"token"`
	Prob  float64 `json:"probability"` // Robinson's f(w): the spam probability the token suggests
	Spam  int     `json:"spam_count"`
	Ham   int     `json:"ham_count"`
}

// Verdict is the filter's judgement of a message.
type Verdict struct {
	Prob    float64 `json:"probability"` // 0 = surely ham, 1 = surely spam
	Trained bool    `json:"trained"`     // false: too little training to judge
	Spam    int     `json:"spam_trained"`
	Ham     int     `json:"ham_trained"`
	Tokens  []Token `json:"tokens"` // the tokens combined, most telling first
}

// MinSpam is how many spam messages a filter must have learnt before it
// judges: with fewer it would call anything spam that shares a word with
// its one example. Five is what the lesson trains with.
const MinSpam = 5

// classify computes the verdict of tokens against db.
func (db *DB) classify(tokens []string) Verdict {
	v := Verdict{Spam: db.Spam, Ham: db.Ham, Prob: 0.5, Tokens: []Token{}}
	if db.Spam < MinSpam || db.Ham < 1 {
		return v
	}
	v.Trained = true
	var ts []Token
	for _, t := range tokens {
		c, ok := db.Tokens[t]
		if !ok {
			continue
		}
		// Graham's p(w), with counts relative to the number of messages
		// of each kind, then Robinson's f(w) pulling rare tokens to x.
		sr := float64(c.Spam) / float64(db.Spam)
		hr := float64(c.Ham) / float64(db.Ham)
		p := sr / (sr + hr)
		n := float64(c.Spam + c.Ham)
		f := (robinsonS*robinsonX + n*p) / (robinsonS + n)
		if math.Abs(f-0.5) < minDev {
			continue
		}
		ts = append(ts, Token{Token: t, Prob: f, Spam: c.Spam, Ham: c.Ham})
	}
	sort.Slice(ts, func(i, j int) bool {
		di, dj := math.Abs(ts[i].Prob-0.5), math.Abs(ts[j].Prob-0.5)
		if di != dj {
			return di > dj
		}
		return ts[i].Token < ts[j].Token
	})
	if len(ts) > maxInteresting {
		ts = ts[:maxInteresting]
	}
	v.Tokens = ts
	if len(ts) == 0 {
		return v
	}
	v.Prob = Combine(ts)
	return v
}

// Combine is Fisher's chi-square combining as Robinson applied it: H is how
// strongly the tokens say "ham", S how strongly they say "spam", and the
// indicator (1 + H - S) / 2... written here with H from the spam side so
// that 1 means spam:
//
//	H = C⁻¹(-2 ln Π f(w), 2n)      S = C⁻¹(-2 ln Π (1 - f(w)), 2n)
//	I = (1 + H - S) / 2
//
// where C⁻¹ is the chi-square survival function with 2n degrees of freedom.
func Combine(ts []Token) float64 {
	var lnF, lnG float64
	for _, t := range ts {
		f := math.Min(math.Max(t.Prob, 1e-6), 1-1e-6)
		lnF += math.Log(f)
		lnG += math.Log(1 - f)
	}
	n := len(ts)
	h := chi2Q(-2*lnF, 2*n)
	s := chi2Q(-2*lnG, 2*n)
	return (1 + h - s) / 2
}

// chi2Q is the probability that a chi-square variable with v (even)
// degrees of freedom exceeds x2, summed in log space so that long
// messages neither underflow nor overflow.
func chi2Q(x2 float64, v int) float64 {
	m := x2 / 2
	if m <= 0 {
		return 1
	}
	logTerm := -m
	sum := math.Exp(logTerm)
	lm := math.Log(m)
	for i := 1; i < v/2; i++ {
		logTerm += lm - math.Log(float64(i))
		sum += math.Exp(logTerm)
	}
	return math.Min(sum, 1)
}

// train adds (or, with sign -1, removes) a message's tokens.
func (db *DB) train(tokens []string, spam bool, sign int) {
	if spam {
		db.Spam = max(0, db.Spam+sign)
	} else {
		db.Ham = max(0, db.Ham+sign)
	}
	for _, t := range tokens {
		c := db.Tokens[t]
		if spam {
			c.Spam = max(0, c.Spam+sign)
		} else {
			c.Ham = max(0, c.Ham+sign)
		}
		if c.Spam == 0 && c.Ham == 0 {
			delete(db.Tokens, t)
		} else {
			db.Tokens[t] = c
		}
	}
}

// Filter keeps the per-user databases under a directory, one JSON file each.
type Filter struct {
	Dir string
	// Seed is trained as ham into a new user's database (see package doc);
	// nil starts empty.
	Seed [][]byte

	mu    sync.Mutex
	dbs   map[string]*DB
	mtime map[string]time.Time // of each file as last read or written
}

// NewFilter returns a filter keeping its files in dir.
func NewFilter(dir string, seed [][]byte) *Filter {
	return &Filter{Dir: dir, Seed: seed, dbs: map[string]*DB{}, mtime: map[string]time.Time{}}
}

func (f *Filter) path(user string) string { return filepath.Join(f.Dir, user+".json") }

// load returns user's database, reading or creating it; f.mu is held.
func (f *Filter) load(user string) (*DB, error) {
	if db, ok := f.dbs[user]; ok {
		// Another process (mailx spam train) may have changed the file.
		if st, err := os.Stat(f.path(user)); err != nil || st.ModTime().Equal(f.mtime[user]) {
			return db, nil
		}
	}
	db := newDB()
	b, err := os.ReadFile(f.path(user))
	switch {
	case err == nil:
		if err := json.Unmarshal(b, db); err != nil {
			return nil, fmt.Errorf("spam: %s's filter %s is damaged (%v); move it away to start afresh", user, f.path(user), err)
		}
		if db.Tokens == nil {
			db.Tokens = map[string]Counts{}
		}
		if db.Trained == nil {
			db.Trained = map[string]bool{}
		}
	case errors.Is(err, os.ErrNotExist):
		for _, m := range f.Seed {
			db.train(Tokens(m), false, 1)
			key := messageKey(m)
			db.Trained[key] = false
			db.Order = append(db.Order, key)
		}
	default:
		return nil, fmt.Errorf("spam: read %s's filter: %w", user, err)
	}
	if f.dbs == nil {
		f.dbs, f.mtime = map[string]*DB{}, map[string]time.Time{}
	}
	f.dbs[user] = db
	if st, err := os.Stat(f.path(user)); err == nil {
		f.mtime[user] = st.ModTime()
	}
	return db, nil
}

// save writes user's database atomically (temporary file, then rename).
func (f *Filter) save(user string, db *DB) error {
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("spam: %w", err)
	}
	b, err := json.Marshal(db)
	if err != nil {
		return err
	}
	tmp := f.path(user) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("spam: save %s's filter: %w", user, err)
	}
	if err := os.Rename(tmp, f.path(user)); err != nil {
		return fmt.Errorf("spam: save %s's filter: %w", user, err)
	}
	if st, err := os.Stat(f.path(user)); err == nil {
		if f.mtime == nil {
			f.mtime = map[string]time.Time{}
		}
		f.mtime[user] = st.ModTime()
	}
	return nil
}

// Classify judges msg with user's filter.
func (f *Filter) Classify(user string, msg []byte) (Verdict, error) {
	toks := Tokens(msg)
	f.mu.Lock()
	defer f.mu.Unlock()
	db, err := f.load(user)
	if err != nil {
		return Verdict{Prob: 0.5}, err
	}
	return db.classify(toks), nil
}

// TrainResult says what training did.
type TrainResult struct {
	Changed bool   `json:"changed"` // false: already trained that way
	Note    string `json:"note"`
	Spam    int    `json:"spam_trained"`
	Ham     int    `json:"ham_trained"`
}

// Train teaches user's filter that msg is spam (or ham). A message trained
// the other way before is untrained first (moved out of Junk: it was ham
// after all); one trained the same way is left alone.
func (f *Filter) Train(user string, msg []byte, spam bool) (TrainResult, error) {
	key := messageKey(msg)
	toks := Tokens(msg)
	f.mu.Lock()
	defer f.mu.Unlock()
	db, err := f.load(user)
	if err != nil {
		return TrainResult{}, err
	}
	kind := map[bool]string{true: "spam", false: "ham"}
	prev, known := db.Trained[key]
	res := TrainResult{}
	switch {
	case known && prev == spam:
		res.Note = "already learnt as " + kind[spam]
	case known:
		db.train(toks, prev, -1)
		db.train(toks, spam, 1)
		db.Trained[key] = spam
		res.Changed, res.Note = true, "relearnt as "+kind[spam]+" (it was learnt as "+kind[prev]+")"
	default:
		db.train(toks, spam, 1)
		db.Trained[key] = spam
		db.Order = append(db.Order, key)
		if len(db.Order) > maxTrained {
			delete(db.Trained, db.Order[0])
			db.Order = db.Order[1:]
		}
		res.Changed, res.Note = true, "learnt as "+kind[spam]
	}
	res.Spam, res.Ham = db.Spam, db.Ham
	if res.Changed {
		if err := f.save(user, db); err != nil {
			return res, err
		}
	}
	return res, nil
}

// messageKey identifies a message across folders: a hash of its tokens,
// which the trace fields delivery adds (Received:, Return-Path:) and the
// spam fields the server adds do not change.
func messageKey(msg []byte) string {
	toks := Tokens(msg)
	h := sha256.New()
	for _, t := range toks {
		h.Write([]byte(t))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
