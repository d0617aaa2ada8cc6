// Package dashboards renders carelens' HTML dashboards: pages built from
// published metric results (metrics.Disclose, so every number has been
// through disclosure control) with go-echarts charts inside carelens' own
// html/template layout.
//
// The chart library is served by carelens itself (static/js/echarts.min.js,
// embedded; see static/js/ECHARTS.md): pages reference no CDN and render
// with no network. Dashboards never hold a database handle; they ask a
// metrics.Computer for results.
package dashboards
