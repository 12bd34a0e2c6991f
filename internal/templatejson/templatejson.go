// Package templatejson reads a synthesized CloudFormation template as the JSON
// values it is (assertions.Template.ToJSON, or a decoded template file), for
// tests that compare whole properties, references and logical ids.
package templatejson

// Get walks v along keys: a string indexes an object, an int a list. It
// returns nil where the path does not exist.
func Get(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k < 0 || k >= len(l) {
				return nil
			}
			v = l[k]
		default:
			return nil
		}
	}
	return v
}

// Resources returns the resources of type typ in template, by logical id.
func Resources(template map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	all, _ := template["Resources"].(map[string]any)
	for id, r := range all {
		if res, ok := r.(map[string]any); ok && res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// Ref is the template value {"Ref": id}.
func Ref(id string) map[string]any { return map[string]any{"Ref": id} }

// GetAtt is the template value {"Fn::GetAtt": [id, attr]}.
func GetAtt(id, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attr}}
}
