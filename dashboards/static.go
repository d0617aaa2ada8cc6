package dashboards

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static/js/*.js
var staticFS embed.FS

// StaticPrefix is the URL path under which assets are served; go-echarts'
// AssetsHost points here.
const StaticPrefix = "/static/"

// asset is one embedded file with its content hash.
type asset struct {
	data []byte
	hash string // hex sha256 prefix: the ?v= of versioned URLs and the ETag
}

// assets indexes the embedded files by URL path ("/static/js/…").
type assets map[string]asset

func loadAssets() (assets, error) {
	out := assets{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out["/"+p] = asset{data: b, hash: hex.EncodeToString(sum[:6])}
		return nil
	})
	return out, err
}

// url returns the versioned URL of the asset at urlPath, or an error when
// carelens does not ship it (a chart that needs a theme or extension script
// must not silently fall back to a CDN).
func (a assets) url(urlPath string) (string, error) {
	f, ok := a[urlPath]
	if !ok {
		return "", fmt.Errorf("dashboards: chart needs %s, which carelens does not ship", urlPath)
	}
	return urlPath + "?v=" + f.hash, nil
}

// ServeHTTP serves GET and HEAD for embedded files. A request whose ?v=
// matches the content is cached for a year (immutable: new content gets a
// new URL); any other for an hour, revalidated by ETag.
func (a assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean(r.URL.Path)
	f, ok := a[p]
	if !ok || !strings.HasPrefix(p, StaticPrefix) {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	if ct := mime.TypeByExtension(path.Ext(p)); ct != "" {
		h.Set("Content-Type", ct)
	}
	h.Set("ETag", `"`+f.hash+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	if r.URL.Query().Get("v") == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=3600")
	}
	http.ServeContent(w, r, path.Base(p), time.Time{}, bytes.NewReader(f.data))
}
