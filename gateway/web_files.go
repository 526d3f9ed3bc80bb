package gateway

import "embed"

// webFiles holds the templates, styles and scripts of the web pages and
// the viewer's app-config.js template.
//
//go:embed web
var webFiles embed.FS
