package statuspage

import (
	"html/template"
	"strings"
	"time"
)

// Funcs are the template helpers every page may use; pages parse their own
// templates with template.New(name).Funcs(statuspage.Funcs). It is never
// modified.
var Funcs = template.FuncMap{
	"ago":        Ago,
	"since":      Since,
	"utc":        UTC,
	"stateClass": StateClass,
	"alertClass": alertClass,
}

// Ago says how long before now t was, rounded to the second ("12s ago"),
// or "never" for the zero time.
func Ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return Since(t) + " ago"
}

// Since is how long before now t was, rounded to the second ("1m30s"), or
// "" for the zero time.
func Since(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return max(time.Since(t).Round(time.Second), 0).String()
}

// UTC formats t as RFC 3339 in UTC, or "" for the zero time.
func UTC(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// StateClass maps a state word to one of the CSS classes state-up,
// state-down, state-degraded and state-unknown. Only the first word counts,
// so "DOWN (forced)", gdnsd's forced "DOWN!" and "up/2" read as their state.
func StateClass(state string) string {
	word := strings.ToLower(strings.TrimSpace(state))
	if i := strings.IndexAny(word, " /(:,!"); i >= 0 {
		word = word[:i]
	}
	switch word {
	case "up", "ok", "pooled", "enabled", "true", "established", "yes":
		return "state-up"
	case "down", "failed", "critical", "unreachable", "shutdown", "false", "no", "depooled":
		return "state-down"
	case "degraded", "warning", "draining", "drain", "partial", "staged":
		return "state-degraded"
	}
	return "state-unknown"
}

// alertClass keeps an alert's class to the three levels the CSS knows.
func alertClass(level string) string {
	switch level {
	case "ok", "warning", "critical":
		return "alert-" + level
	}
	return "alert-warning"
}
