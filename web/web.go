// Package web holds satmark's front end: the page templates, the annotator's JavaScript
// sources (src/, bundled by esbuild, see package.json) and the bundle itself (dist/,
// built by `make web`, never committed).
package web

import "embed"

// Assets holds templates/*.html and the built dist/ folder.
//
//go:embed templates/*.html all:dist
var Assets embed.FS
