package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"
	"time"
)

// upstreamConf is the zero-cost Junction both contenders call: fixed JSON
// for the two calls of the token path, a distinct user_id per created
// user (from nginx's per-request id), and the identity provider's JWKS.
const upstreamConf = `
worker_processes 1;
daemon off;
pid {{.Dir}}/{{.Name}}.pid;
error_log {{.Dir}}/{{.Name}}-error.log warn;
events { worker_connections 8192; }
http {
	access_log off;
	default_type application/json;
	keepalive_requests 100000000;
	keepalive_timeout 300s;
{{template "temp" .}}
	map $request_id $junction_user_id {
		"~^(?<a>.{8})(?<b>.{4})(?<c>.{4})(?<d>.{4})(?<e>.{12})$" "$a-$b-$c-$d-$e";
	}
	server {
		listen {{.Addr}};
		location = /v2/user {
			return 200 '{"user_id":"$junction_user_id","team_id":"8f9d5f5e-6c4e-4a8b-9b1e-3c2d1e0f9a7b","client_user_id":"bench","created_on":"2026-01-01T00:00:00+00:00","connected_sources":[]}';
		}
		location = /v2/link/token {
			return 200 '{"link_token":"bench-link-token","link_web_url":"https://link.tryvital.io/?token=bench-link-token&env=sandbox&region=us"}';
		}
		location = /jwks.json {
			alias {{.Dir}}/jwks.json;
		}
	}
}
`

// proxyConf is the reference: nginx forwarding the app's token request to
// Junction with the API key added and the app's JWT removed, as a minimal
// BFF would. Without KeepAlive it is nginx's default proxy_pass (a new
// upstream connection per request), the configuration issue 10 measured;
// with it, nginx reuses upstream connections as linkbff does.
const proxyConf = `
worker_processes auto;
daemon off;
pid {{.Dir}}/{{.Name}}.pid;
error_log {{.Dir}}/{{.Name}}-error.log warn;
events { worker_connections 8192; }
http {
	{{if .AccessLog}}access_log {{.Dir}}/{{.Name}}-access.log;{{else}}access_log off;{{end}}
	keepalive_requests 100000000;
{{template "temp" .}}
	upstream junction {
		server {{.Upstream}};
{{- if .KeepAlive}}
		keepalive 64;
		keepalive_requests 100000000;
{{- end}}
	}
	server {
		listen {{.Addr}};
		location = /v1/link/token {
			proxy_pass http://junction/v2/link/token;
{{- if .KeepAlive}}
			proxy_http_version 1.1;
			proxy_set_header Connection "";
{{- end}}
			proxy_set_header Authorization "";
			proxy_set_header x-vital-api-key "{{.APIKey}}";
		}
	}
}
`

// tempPaths keeps nginx's scratch files in the rig's directory, so it runs
// without root.
const tempPaths = `{{define "temp"}}
	client_body_temp_path {{.Dir}}/nginx-tmp/body;
	proxy_temp_path {{.Dir}}/nginx-tmp/proxy;
	fastcgi_temp_path {{.Dir}}/nginx-tmp/fastcgi;
	uwsgi_temp_path {{.Dir}}/nginx-tmp/uwsgi;
	scgi_temp_path {{.Dir}}/nginx-tmp/scgi;
{{end}}`

type nginxConf struct {
	Name, Dir, Addr, Upstream, APIKey string
	AccessLog, KeepAlive              bool
}

// nginxBinary finds nginx on PATH or where Debian puts it.
func nginxBinary() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx", nil
	}
	return "", fmt.Errorf("nginx not found: install it (scripts/bench does: apt-get install nginx wrk)")
}

// startNginx writes conf for c and runs nginx in the foreground.
func startNginx(ctx context.Context, conf string, c nginxConf) (*process, error) {
	name := c.Name
	bin, err := nginxBinary()
	if err != nil {
		return nil, err
	}
	tmpl := template.Must(template.Must(template.New(name).Parse(tempPaths)).Parse(conf))
	var b strings.Builder
	if err := tmpl.Execute(&b, c); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(c.Dir, "nginx-tmp"), 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(c.Dir, name+".conf")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	p, err := start(c.Dir, name, bin, []string{"-p", c.Dir, "-c", path, "-e", filepath.Join(c.Dir, name+"-error.log")}, nil)
	if err != nil {
		return nil, err
	}
	p.url = "http://" + c.Addr
	// Any answer means it listens; a 404 on / is fine.
	if err := p.awaitListening(ctx, c.Addr, 10*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}
