package semantic

import (
	"strings"
	"testing"
)

func TestTooShort(t *testing.T) {
	for _, c := range []struct {
		q     string
		short bool
	}{
		{"", true},
		{"hi", true},
		{"help", true},
		{"pricing?", true},
		{"reset password", true}, // two words
		{"a b c d", true},        // four letters
		{"What is X?", true},     // 6 letters and digits
		{"What is RAG?", false},  // 9 letters, 3 words
		{"What is love?", false}, // 3 words, 11 letters
		{"How can I reset my password?", false},
		{"what's up dude", false}, // the apostrophe joins "what's"
		{"   lots   of   spaces   here  ", false},
		{"日本語 の テキスト です", false},
	} {
		if got := TooShort(c.q); got != c.short {
			t.Errorf("TooShort(%q) = %v, want %v", c.q, got, c.short)
		}
	}
}

func TestCompatibleVetoes(t *testing.T) {
	for _, c := range []struct{ why, a, b string }{
		// numbers
		{"number", "What are the top 5 movies of all time?", "What are the top 10 movies of all time?"},
		{"year", "Who won the election in 2023?", "Who won the election in 2024?"},
		{"number on one side", "What are the 10 best books?", "What are the best books?"},
		{"number word", "What are the top five movies?", "What are the top 10 movies?"},
		{"twice on one side", "Why was I charged for my order?", "Why was I charged twice for my order?"},
		{"thousands", "Best laptop under 30,000 rupees?", "Best laptop under 60,000 rupees?"},
		{"decimal", "What is new in Python 3.11?", "What is new in Python 3.12?"},
		{"range", "How can I gain 7-10 kg in 3 months?", "How can I gain weight in 3 months?"},
		{"order number", "Where is my order #123?", "Where is my order #124?"},
		{"ordinal", "What happened on the 1st day?", "What happened on the 2nd day?"},
		{"other digits", "Is ٥ a lucky number?", "Is 6 a lucky number?"},
		// identifiers
		{"error code", "What does ERR-42 mean?", "What does ERR-43 mean?"},
		{"error code vs none", "What does error ERR-42 mean?", "What does this error mean?"},
		{"version", "How do I upgrade to v2?", "How do I upgrade to v3?"},
		{"model", "Is gpt-4o better than claude?", "Is gpt-4 better than claude?"},
		{"model vs none", "Is gpt-4o good at coding?", "Is gpt good at coding?"},
		{"phone model", "Does the Galaxy J7 have dual SIM?", "Does the Galaxy J5 have dual SIM?"},
		{"letters and digits", "How do I fix error e1234 on boot?", "How do I fix error e1235 on boot?"},
		{"hyphenated prefix", "What is a non-blocking call in Go?", "What is a blocking call in Go?"},
		{"snake case", "What does the max_tokens parameter do?", "What does the tokens parameter do?"},
		{"domain", "Is example.com safe to use?", "Is example.org safe to use?"},
		{"file name", "How do I edit config.yaml for caddy?", "How do I edit config.json for caddy?"},
		// negation
		{"not", "Why is Spotify available in India?", "Why is Spotify not available in India?"},
		{"n't", "Why does my phone connect to Wi-Fi?", "Why doesn't my phone connect to Wi-Fi?"},
		{"n't curly", "Why does my phone connect to the wifi?", "Why doesn’t my phone connect to the wifi?"},
		{"n't no apostrophe", "Why does my code compile fine?", "Why doesnt my code compile fine?"},
		{"never", "What do successful people do every day?", "What do successful people never do every day?"},
		{"no", "How can I start a business with money?", "How can I start a business with no money?"},
		{"without", "How do I reset my password with my email?", "How do I reset my password without my email?"},
		{"none", "Which of these options apply to me?", "None of these options apply to me, what now?"},
		{"cannot", "I can log in to my account, what now?", "I cannot log in to my account, what now?"},
		{"parity 1 vs 2", "Why can't I sleep at night?", "Why can't I not sleep at night?"},
	} {
		if Compatible(c.a, c.b) {
			t.Errorf("%s: Compatible(%q, %q) = true, want false", c.why, c.a, c.b)
		}
		if Compatible(c.b, c.a) {
			t.Errorf("%s: Compatible(%q, %q) = true, want false (reversed)", c.why, c.b, c.a)
		}
	}
}

func TestCompatibleKeeps(t *testing.T) {
	for _, c := range []struct{ why, a, b string }{
		{"paraphrase", "How can I reset my password?", "How do I reset my password?"},
		{"case and punctuation", "HOW DO I RESET MY PASSWORD", "how do i reset my password??"},
		{"same numbers", "What are the top 5 movies of 2023?", "Top 5 films of 2023?"},
		{"number order and repeats", "Is 5 more than 3?", "Is 3 less than 5, or 5 more than 3?"},
		{"digits vs word", "Are you against the two party system?", "Are you against the 2 party system?"},
		{"twice is two times", "Why was I charged twice for one order?", "I got billed two times for one order, why?"},
		{"thousands separator", "Can I live on 1,000 dollars a month?", "Can I live on 1000 dollars a month?"},
		{"trailing zeros", "What changed in version 5.0?", "What changed in version 5?"},
		{"leading zeros", "What is agent 007's real name?", "What is agent 7's real name?"},
		{"ordinal is a number", "What happened on the 1st day?", "What happened on day 1?"},
		{"identifier spelled apart", "Is gpt-4o good at coding?", "Is GPT 4o good at coding?"},
		{"identifier joined", "Is gpt-4o good at coding?", "Is gpt4o good at coding?"},
		{"identifier case", "What does ERR-42 mean?", "what does err-42 mean"},
		{"hyphenated word", "What is an e-mail address?", "What is an email address?"},
		{"hyphen vs space", "What is self-study?", "What is self study?"},
		{"node.js", "Is node.js fast?", "Is NodeJS fast?"},
		{"alternatives", "Who are the most underrated actors/actresses?", "Who are the most underrated actors and actresses?"},
		{"and/or", "Does Etsy have an API and/or an affiliate program?", "Does Etsy have an API and an affiliate program?"},
		{"both negated", "Why can't I sleep at night?", "Why am I not able to sleep at night?"},
		{"double negation", "Is it not true that it is not possible?", "Is it true that it is possible?"},
		{"possessive and decade", "What was the 1990's best music?", "What was the 1990s best music?"},
		{"or not", "Is the universe expanding or not?", "Is the universe expanding?"},
		{"why or why not", "Are business cards effective? Why or why not?", "Are business cards effective?"},
		{"no words to compare", "", ""},
		{"unrelated but no veto", "What is the capital of France?", "How do I bake bread?"},
	} {
		if !Compatible(c.a, c.b) {
			t.Errorf("%s: Compatible(%q, %q) = false, want true", c.why, c.a, c.b)
		}
		if !Compatible(c.b, c.a) {
			t.Errorf("%s: Compatible(%q, %q) = false, want true (reversed)", c.why, c.b, c.a)
		}
	}
}

func TestGuardCanonNumber(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0", "000": "0", "007": "7", "1,000": "1000", "5.0": "5", "5.50": "5.5",
		"0.5": "0.5", ".5": "0.5", "1.2.3": "1.2.3", "١٢": "12", "2024": "2024",
	} {
		if got := guardCanonNumber(in); got != want {
			t.Errorf("guardCanonNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzCompatible(f *testing.F) {
	for _, s := range [][2]string{
		{"How can I reset my password?", "How do I reset my password?"},
		{"top 5", "top 10"},
		{"ERR-42 gpt-4o v2 order #123", "err 42 GPT 4o"},
		{"don't not never", "cannot without none"},
		{"1,000.50 ٣ 1st 2nd", "1000.5 3 first"},
		{"a/b/c x-y_z.w", "a b c xyzw"},
		{"", " "},
		{"\xff\xfe", "’'`ʼ"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := Compatible(a, b), Compatible(b, a)
		if ab != ba {
			t.Fatalf("Compatible(%q, %q) = %v but reversed %v", a, b, ab, ba)
		}
		if !Compatible(a, a) {
			t.Fatalf("Compatible(%q, itself) = false", a)
		}
		// Case never matters.
		if Compatible(strings.ToUpper(a), b) != Compatible(strings.ToLower(a), b) && strings.ToLower(strings.ToUpper(a)) == strings.ToLower(a) {
			t.Fatalf("Compatible depends on the case of %q", a)
		}
		TooShort(a)
	})
}

func BenchmarkCompatible(b *testing.B) {
	const q1 = "How can I reset my password when I no longer have the email?"
	const q2 = "How do I reset my password if I don't have my email anymore?"
	b.ReportAllocs()
	for b.Loop() {
		Compatible(q1, q2)
	}
}
