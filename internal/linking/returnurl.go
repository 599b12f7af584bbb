package linking

import (
	"fmt"
	"net/url"
	"strings"
)

// ReturnPolicy decides which return_to URLs a Link flow may send the user
// back to. Web entries match by exact origin; app deep-link entries match by
// scheme ("myapp://") or by prefix ("myapp://linked").
type ReturnPolicy struct {
	origins  map[string]bool // "https://app.example.com"
	schemes  map[string]bool // "myapp"
	prefixes []string        // "myapp://linked"
}

// dangerousSchemes can run code or read local data wherever they land.
var dangerousSchemes = map[string]bool{"javascript": true, "data": true, "vbscript": true, "file": true, "blob": true, "about": true}

// ParseReturnPolicy builds a policy from allowlist entries: https://origin
// (exact origin) or myapp:// and myapp://prefix (app deep links).
func ParseReturnPolicy(entries []string) (*ReturnPolicy, error) {
	p := &ReturnPolicy{origins: map[string]bool{}, schemes: map[string]bool{}}
	for _, e := range entries {
		u, err := url.Parse(e)
		if err != nil || u.Scheme == "" {
			return nil, fmt.Errorf("entry %q is not a URL", e)
		}
		scheme := strings.ToLower(u.Scheme)
		switch {
		case dangerousSchemes[scheme]:
			return nil, fmt.Errorf("entry %q uses a forbidden scheme", e)
		case scheme == "http" || scheme == "https":
			if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
				return nil, fmt.Errorf("entry %q must be an origin such as https://app.example.com", e)
			}
			p.origins[scheme+"://"+strings.ToLower(u.Host)] = true
		case strings.TrimPrefix(strings.TrimPrefix(e[len(u.Scheme):], ":"), "//") == "":
			p.schemes[scheme] = true
		default:
			p.prefixes = append(p.prefixes, scheme+e[len(u.Scheme):])
		}
	}
	return p, nil
}

// withOrigin returns a copy of p (which may be nil) that also allows the
// origin of base: linkbff's own pages are always a safe place to return to.
func (p *ReturnPolicy) withOrigin(base string) *ReturnPolicy {
	out := &ReturnPolicy{origins: map[string]bool{}, schemes: map[string]bool{}}
	if p != nil {
		for o := range p.origins {
			out.origins[o] = true
		}
		for s := range p.schemes {
			out.schemes[s] = true
		}
		out.prefixes = append(out.prefixes, p.prefixes...)
	}
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		out.origins[strings.ToLower(u.Scheme)+"://"+strings.ToLower(u.Host)] = true
	}
	return out
}

// Origins lists the allowed web origins (where the callback page may post
// its message).
func (p *ReturnPolicy) Origins() []string {
	out := make([]string, 0, len(p.origins))
	for o := range p.origins {
		out = append(out, o)
	}
	return out
}

// Check returns the normalised return_to or an Invalid error naming field.
func (p *ReturnPolicy) Check(field, raw string) (string, error) {
	reject := FieldErrorf(field, "%s is not one of the return URLs this app allows", field)
	if len(raw) > 2048 || strings.ContainsAny(raw, "\\\x00\r\n\t ") {
		return "", reject
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Opaque != "" && (u.Scheme == "http" || u.Scheme == "https") {
		return "", reject
	}
	scheme := strings.ToLower(u.Scheme)
	if dangerousSchemes[scheme] || u.User != nil {
		return "", reject
	}
	if scheme == "http" || scheme == "https" {
		if u.Host == "" || !p.origins[scheme+"://"+strings.ToLower(u.Host)] {
			return "", reject
		}
		return u.String(), nil
	}
	if p.schemes[scheme] {
		return raw, nil
	}
	normalised := scheme + raw[len(u.Scheme):]
	for _, prefix := range p.prefixes {
		if !strings.HasPrefix(normalised, prefix) {
			continue
		}
		// A prefix matches at a path boundary only: myapp://linked must not
		// admit myapp://linkedevil.
		if normalised == prefix || strings.ContainsRune("/?#", rune(prefix[len(prefix)-1])) || strings.ContainsRune("/?#", rune(normalised[len(prefix)])) {
			return raw, nil
		}
	}
	return "", reject
}
