package adminstate

import "errors"

// Match reports whether key matches the fnmatch(3) pattern with no flags, as
// gdnsd uses it: `*` matches any run of bytes including `/`, `?` one byte,
// `[...]` a class (with `!` or `^` negation and ranges), `\` escapes.
func Match(pattern, key string) bool {
	// Iterative matcher with single-star backtracking: linear in practice.
	p, k := 0, 0
	starP, starK := -1, 0
	for k < len(key) {
		if p < len(pattern) {
			switch c := pattern[p]; c {
			case '*':
				starP, starK = p, k
				p++
				continue
			case '?':
				p++
				k++
				continue
			case '[':
				if ok, next, valid := matchClass(pattern, p, key[k]); valid {
					if ok {
						p, k = next, k+1
						continue
					}
				} else if key[k] == '[' { // unterminated class matches a literal '['
					p, k = p+1, k+1
					continue
				}
			case '\\':
				if p+1 < len(pattern) && pattern[p+1] == key[k] {
					p, k = p+2, k+1
					continue
				}
			default:
				if c == key[k] {
					p, k = p+1, k+1
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starK++
		p, k = starP+1, starK
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchClass matches c against the class starting at pattern[i] == '['.
// valid is false when the class is not terminated.
func matchClass(pattern string, i int, c byte) (ok bool, next int, valid bool) {
	j := i + 1
	neg := false
	if j < len(pattern) && (pattern[j] == '!' || pattern[j] == '^') {
		neg = true
		j++
	}
	first := true
	for j < len(pattern) {
		if pattern[j] == ']' && !first {
			return ok != neg, j + 1, true
		}
		first = false
		lo := pattern[j]
		if lo == '\\' && j+1 < len(pattern) {
			j++
			lo = pattern[j]
		}
		hi := lo
		if j+2 < len(pattern) && pattern[j+1] == '-' && pattern[j+2] != ']' {
			hi = pattern[j+2]
			j += 2
		}
		if lo <= c && c <= hi {
			ok = true
		}
		j++
	}
	return false, 0, false
}

// validGlob rejects patterns fnmatch would treat as errors in gdnsd's
// config: unterminated classes and a trailing escape.
func validGlob(p string) error {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			if i+1 == len(p) {
				return errors.New("pattern ends with an escape")
			}
			i++
		case '[':
			if _, next, valid := matchClass(p, i, 0); !valid {
				return errors.New("unterminated [ class")
			} else {
				i = next - 1
			}
		}
	}
	return nil
}
