package web

import (
	"fmt"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// jsonObject is one node of the parse_query tree; encoding/json writes its
// keys sorted, which is the order Prometheus's answer has too.
type jsonObject = map[string]any

// astJSON translates a PromQL syntax tree into the node objects of
// Prometheus's parse_query answer. A node type it does not know (one a newer
// parser added) is an error, never a panic.
func astJSON(e parser.Expr) (any, error) {
	if e == nil {
		return nil, nil
	}
	switch n := e.(type) {
	case *parser.AggregateExpr:
		expr, err := astJSON(n.Expr)
		if err != nil {
			return nil, err
		}
		param, err := astJSON(n.Param)
		if err != nil {
			return nil, err
		}
		return jsonObject{"type": "aggregation", "op": n.Op.String(), "expr": expr, "param": param,
			"grouping": nonNil(n.Grouping), "without": n.Without}, nil
	case *parser.BinaryExpr:
		lhs, err := astJSON(n.LHS)
		if err != nil {
			return nil, err
		}
		rhs, err := astJSON(n.RHS)
		if err != nil {
			return nil, err
		}
		var matching any
		if m := n.VectorMatching; m != nil {
			matching = jsonObject{"card": m.Card.String(), "labels": nonNil(m.MatchingLabels), "on": m.On,
				"include": nonNil(m.Include), "fillValues": jsonObject{"lhs": m.FillValues.LHS, "rhs": m.FillValues.RHS}}
		}
		return jsonObject{"type": "binaryExpr", "op": n.Op.String(), "lhs": lhs, "rhs": rhs,
			"matching": matching, "bool": n.ReturnBool}, nil
	case *parser.Call:
		args := make([]any, 0, len(n.Args))
		for _, a := range n.Args {
			arg, err := astJSON(a)
			if err != nil {
				return nil, err
			}
			args = append(args, arg)
		}
		return jsonObject{"type": "call", "args": args, "func": jsonObject{"name": n.Func.Name,
			"argTypes": n.Func.ArgTypes, "variadic": n.Func.Variadic, "returnType": n.Func.ReturnType}}, nil
	case *parser.MatrixSelector:
		vs, ok := n.VectorSelector.(*parser.VectorSelector)
		if !ok {
			return nil, fmt.Errorf("matrix selector over %T, want a vector selector", n.VectorSelector)
		}
		node, err := selectorJSON("matrixSelector", vs)
		if err != nil {
			return nil, err
		}
		rangeExpr, err := durationJSON(n.RangeExpr)
		if err != nil {
			return nil, err
		}
		node["range"], node["rangeExpr"] = n.Range.Milliseconds(), rangeExpr
		return node, nil
	case *parser.SubqueryExpr:
		expr, err := astJSON(n.Expr)
		if err != nil {
			return nil, err
		}
		durs := map[string]parser.Expr{"rangeExpr": n.RangeExpr, "offsetExpr": n.OriginalOffsetExpr, "stepExpr": n.StepExpr}
		node := jsonObject{"type": "subquery", "expr": expr, "range": n.Range.Milliseconds(),
			"offset": n.OriginalOffset.Milliseconds(), "step": n.Step.Milliseconds(),
			"timestamp": n.Timestamp, "startOrEnd": startOrEnd(n.StartOrEnd)}
		for k, d := range durs {
			if node[k], err = durationJSON(d); err != nil {
				return nil, err
			}
		}
		return node, nil
	case *parser.DurationExpr:
		return durationJSON(n)
	case *parser.NumberLiteral:
		return jsonObject{"type": "numberLiteral", "val": strconv.FormatFloat(n.Val, 'f', -1, 64)}, nil
	case *parser.ParenExpr:
		expr, err := astJSON(n.Expr)
		if err != nil {
			return nil, err
		}
		return jsonObject{"type": "parenExpr", "expr": expr}, nil
	case *parser.StringLiteral:
		return jsonObject{"type": "stringLiteral", "val": n.Val}, nil
	case *parser.UnaryExpr:
		expr, err := astJSON(n.Expr)
		if err != nil {
			return nil, err
		}
		return jsonObject{"type": "unaryExpr", "op": n.Op.String(), "expr": expr}, nil
	case *parser.VectorSelector:
		return selectorJSON("vectorSelector", n)
	}
	return nil, fmt.Errorf("parse_query: unsupported syntax node %T", e)
}

func selectorJSON(typ string, vs *parser.VectorSelector) (jsonObject, error) {
	offsetExpr, err := durationJSON(vs.OriginalOffsetExpr)
	if err != nil {
		return nil, err
	}
	return jsonObject{"type": typ, "name": vs.Name, "offset": vs.OriginalOffset.Milliseconds(),
		"offsetExpr": offsetExpr, "matchers": matchersJSON(vs.LabelMatchers), "timestamp": vs.Timestamp,
		"startOrEnd": startOrEnd(vs.StartOrEnd), "anchored": vs.Anchored, "smoothed": vs.Smoothed}, nil
}

// durationJSON renders the duration expressions of ranges, offsets and
// steps ("[5m+1m]"); nil when the duration was a plain literal.
func durationJSON(e parser.Expr) (any, error) {
	switch n := e.(type) {
	case nil:
		return nil, nil
	case *parser.DurationExpr:
		if n == nil {
			return nil, nil
		}
		lhs, err := durationJSON(n.LHS)
		if err != nil {
			return nil, err
		}
		rhs, err := durationJSON(n.RHS)
		if err != nil {
			return nil, err
		}
		return jsonObject{"type": "durationExpr", "op": n.Op.String(), "lhs": lhs, "rhs": rhs, "wrapped": n.Wrapped}, nil
	case *parser.NumberLiteral:
		if n == nil {
			return nil, nil
		}
		return jsonObject{"type": "numberLiteral", "val": strconv.FormatFloat(n.Val, 'f', -1, 64), "duration": n.Duration}, nil
	}
	return astJSON(e)
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func matchersJSON(ms []*labels.Matcher) []jsonObject {
	out := make([]jsonObject, 0, len(ms))
	for _, m := range ms {
		out = append(out, jsonObject{"name": m.Name, "value": m.Value, "type": m.Type.String()})
	}
	return out
}

func startOrEnd(t parser.ItemType) any {
	if t == 0 {
		return nil
	}
	return t.String()
}
