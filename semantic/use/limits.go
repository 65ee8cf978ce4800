package use

// MaxTokens is the most tokens of a text the model reads (the graph's
// ClipToMaxLength); Embed ignores the rest.
const MaxTokens = maxTokens

// Fits reports whether the model reads all of text. Two texts that differ
// only past the limit get the same vector, so a cache must not compare
// texts that do not fit.
func (m *Model) Fits(text string) bool { return len(m.tok.Encode(text)) <= maxTokens }
