package caddymodule

import (
	"strconv"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func parseSplitCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	s := new(SplitHandler)
	err := s.UnmarshalCaddyfile(h.Dispenser)
	return s, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens:
//
//	rag_split <experiment> {
//		sticky            <placeholder>
//		variant           <name> <weight>
//		override_header   <header> | off   # default off
//		feedback_window   <duration>
//		feedback_requests <n>
//	}
func (s *SplitHandler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if err := parseArg(d, &s.Experiment); err != nil {
		return err
	}
	for d.NextBlock(0) {
		switch opt := d.Val(); opt {
		case "sticky":
			if err := parseArg(d, &s.Sticky); err != nil {
				return err
			}
		case "variant":
			var name, weight string
			if !d.AllArgs(&name, &weight) {
				return d.ArgErr()
			}
			w, err := strconv.ParseFloat(weight, 64)
			if err != nil || !(w > 0) || w > maxVariantWeight {
				return d.Errf("variant %s: weight must be a positive number, got %q", name, weight)
			}
			s.Variants = append(s.Variants, SplitVariant{Name: name, Weight: w})
		case "override_header":
			if err := parseArg(d, &s.OverrideHeader); err != nil {
				return err
			}
		case "feedback_window":
			if err := parseDuration(d, &s.FeedbackWindow); err != nil {
				return err
			}
		case "feedback_requests":
			if err := parseCount(d, &s.FeedbackRequests, 1); err != nil {
				return err
			}
		default:
			return d.Errf("unrecognized rag_split option %q", opt)
		}
	}
	if len(s.Variants) == 0 {
		return d.Err("rag_split: at least one variant is required")
	}
	return nil
}

func parseFeedbackCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	f := new(FeedbackHandler)
	err := f.UnmarshalCaddyfile(h.Dispenser)
	return f, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens:
//
//	rag_feedback <experiment> {
//		score_range <min> <max>   # default -100 100
//	}
func (f *FeedbackHandler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if err := parseArg(d, &f.Experiment); err != nil {
		return err
	}
	for d.NextBlock(0) {
		switch opt := d.Val(); opt {
		case "score_range":
			var lo, hi string
			if !d.AllArgs(&lo, &hi) {
				return d.ArgErr()
			}
			l, err1 := strconv.ParseFloat(lo, 64)
			h, err2 := strconv.ParseFloat(hi, 64)
			r := []float64{l, h}
			if err1 != nil || err2 != nil {
				return d.Errf("score_range: want two numbers, got %q %q", lo, hi)
			}
			if err := checkScoreRange(r); err != nil {
				return d.Err(err.Error())
			}
			f.ScoreRange = r
		default:
			return d.Errf("unrecognized rag_feedback option %q: it has no options but score_range", opt)
		}
	}
	return nil
}

// Interface guards
var (
	_ caddyfile.Unmarshaler = (*SplitHandler)(nil)
	_ caddyfile.Unmarshaler = (*FeedbackHandler)(nil)
)
