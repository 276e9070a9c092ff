package httpapi

import (
	"net/http"
	"strconv"
	"time"
)

// routeOps serves the operator's endpoints, gamify's own (neither reference
// has them): the engine's counters and an online backup of its file.
func (h *handler) routeOps() {
	const p = "/admin/v1"
	h.handle("GET "+p+"/stats", adminKey, func(c *call) (int, any, error) {
		return http.StatusOK, c.eng.Stats(), nil
	})
	h.handle("GET "+p+"/backup", adminKey, func(c *call) (int, any, error) {
		if err := c.eng.Flush(c.ctx()); err != nil {
			return 0, nil, err // before any byte is sent: a typed error body
		}
		return http.StatusOK, backupBody{c}, nil
	})
}

// backupBody streams Engine.Backup. Once bytes are sent the status is
// final: a backup cut short is a truncated body (shorter than no
// Content-Length promises), which the reader detects by opening the copy;
// the trailer Gamify-Backup says "complete" only after the last byte.
type backupBody struct{ c *call }

func (b backupBody) stream(w http.ResponseWriter) {
	name := "gamify-backup-" + time.Now().UTC().Format("20060102T150405Z") + ".db"
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", "attachment; filename="+strconv.Quote(name))
	w.Header().Set("Trailer", "Gamify-Backup")
	w.WriteHeader(http.StatusOK)
	if err := b.c.eng.Backup(b.c.ctx(), w); err != nil {
		b.c.log.Warn("httpapi: backup cut short", "err", err)
		w.Header().Set("Gamify-Backup", "failed")
		return
	}
	w.Header().Set("Gamify-Backup", "complete")
}
