package semantic

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/kljensen/snowball/english"
)

// Stem remembers recent stems in a table shared by every goroutine: under
// concurrent use, with more words than slots (so slots are replaced while
// others read them), every answer is the stemmer's own.
func TestStemRemembersWhatTheStemmerSays(t *testing.T) {
	words := []string{"enabled", "enables", "enabling", "disconnect", "payments", "running", "generously"}
	for i := range 3 * len(stemSlots) {
		words = append(words, fmt.Sprintf("configur%sations", strings.Repeat("x", i%7))+fmt.Sprint(i%50))
	}
	words = append(words, strings.Repeat("long", 20)+"ing") // past maxStemmedLen
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 3 {
				for i := range words {
					w := words[(i*(g+1)+round)%len(words)]
					if got, want := Stem(w), english.Stem(w, true); got != want {
						select {
						case errs <- fmt.Sprintf("Stem(%q) = %q, want %q", w, got, want):
						default:
						}
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
