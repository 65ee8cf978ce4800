package caddymodule

import (
	"strconv"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func parseCacheCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	c := new(CacheHandler)
	err := c.UnmarshalCaddyfile(h.Dispenser)
	return c, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens:
//
//	rag_cache [<name>] {
//		ttl            <duration>
//		max_size       <size>
//		max_entry_size <size>
//		max_body       <size>
//		scope          shared | <placeholder>
//		scope_headers  <header...>
//		ignore_fields  <field...>
//		stale_if_error <duration>
//		coalesce       on | off | cluster
//		coalesce_wait  <duration>
//		redis          <url>
//		redis_timeout  <duration>
//		redis_prefix   <prefix>
//		redis_max_entry_size <size>
//		semantic [{
//			embedder    local | use | use-static | openai | model2vec {
//				path <model-dir>
//			}
//			threshold   <0..1>
//			max_entries <n>
//			field       <json-field>
//			url         <embeddings-url>
//			model       <name>
//			key         <api-key>
//			dimensions  <n>
//			timeout     <duration>
//			batch_window <duration>
//			max_input_chars <n>
//		}]
//	}
func (c *CacheHandler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		c.Name = d.Val()
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "ttl":
			if err := parseDuration(d, &c.TTL); err != nil {
				return err
			}
		case "stale_if_error":
			if err := parseDuration(d, &c.StaleIfError); err != nil {
				return err
			}
		case "max_size":
			if err := parseSize(d, &c.MaxSize); err != nil {
				return err
			}
		case "max_entry_size":
			if err := parseSize(d, &c.MaxEntrySize); err != nil {
				return err
			}
		case "max_body":
			if err := parseSize(d, &c.MaxBody); err != nil {
				return err
			}
		case "scope":
			if err := parseArg(d, &c.Scope); err != nil {
				return err
			}
		case "scope_headers":
			if err := parseArgs(d, &c.ScopeHeaders); err != nil {
				return err
			}
		case "ignore_fields":
			if err := parseArgs(d, &c.IgnoreFields); err != nil {
				return err
			}
		case "coalesce":
			var v string
			if err := parseArg(d, &v); err != nil {
				return err
			}
			if v == "cluster" {
				c.CoalesceCluster = true
				break
			}
			on, err := parseOnOff(v)
			if err != nil {
				return d.Errf("coalesce: want on, off or cluster: %v", err)
			}
			c.Coalesce = &on
		case "coalesce_wait":
			if err := parseDuration(d, &c.CoalesceWait); err != nil {
				return err
			}
		case "redis":
			if err := parseArg(d, &c.Redis); err != nil {
				return err
			}
		case "redis_timeout":
			if err := parseDuration(d, &c.RedisTimeout); err != nil {
				return err
			}
		case "redis_prefix":
			if err := parseArg(d, &c.RedisPrefix); err != nil {
				return err
			}
		case "redis_max_entry_size":
			if err := parseSize(d, &c.RedisMaxEntrySize); err != nil {
				return err
			}
		case "semantic":
			sc, err := parseSemantic(d)
			if err != nil {
				return err
			}
			c.Semantic = sc
		default:
			return d.Errf("unrecognized rag_cache option %q", d.Val())
		}
	}
	return nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*CacheHandler)(nil)

func parseSemantic(d *caddyfile.Dispenser) (*SemanticCache, error) {
	sc := new(SemanticCache)
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch opt := d.Val(); opt {
		case "embedder":
			err = parseEmbedder(d, sc)
		case "threshold":
			var v string
			if err := parseArg(d, &v); err != nil {
				return nil, err
			}
			t, perr := strconv.ParseFloat(v, 64)
			if perr != nil || t <= 0 || t > 1 {
				return nil, d.Errf("threshold: want a number in (0, 1], got %q", v)
			}
			sc.Threshold = t
		case "max_entries":
			err = parseCount(d, &sc.MaxEntries, 1)
		case "dimensions":
			err = parseCount(d, &sc.Dimensions, 1)
		case "max_input_chars":
			err = parseCount(d, &sc.MaxInputChars, 1)
		case "field":
			err = parseArg(d, &sc.Field)
		case "url":
			err = parseArg(d, &sc.URL)
		case "model":
			err = parseArg(d, &sc.Model)
		case "key":
			err = parseArg(d, &sc.Key)
		case "timeout":
			err = parseDuration(d, &sc.Timeout)
		case "batch_window":
			err = parseDuration(d, &sc.BatchWindow)
		default:
			return nil, d.Errf("unrecognized semantic option %q", opt)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := sc.validate(); err != nil {
		return nil, d.Errf("semantic: %v", err)
	}
	return sc, nil
}

// parseEmbedder reads `embedder local|openai` or
// `embedder model2vec { path <dir> }`: the model2vec embedder's options
// are in its own block, the openai embedder's in the semantic block.
func parseEmbedder(d *caddyfile.Dispenser, sc *SemanticCache) error {
	if !d.NextArg() {
		return d.ArgErr()
	}
	sc.Embedder = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	switch sc.Embedder {
	case "local", "openai", "use", "use-static":
		if d.NextBlock(d.Nesting()) {
			return d.Errf("embedder %s takes no block", sc.Embedder)
		}
		return nil
	case "model2vec":
		for nesting := d.Nesting(); d.NextBlock(nesting); {
			switch opt := d.Val(); opt {
			case "path":
				if err := parseArg(d, &sc.ModelPath); err != nil {
					return err
				}
			default:
				return d.Errf("unrecognized model2vec option %q", opt)
			}
		}
		if sc.ModelPath == "" {
			return d.Err("embedder model2vec: needs a block with path <model-dir>")
		}
		return nil
	}
	return d.Errf("embedder: want local, use, use-static, model2vec or openai, got %q", sc.Embedder)
}
