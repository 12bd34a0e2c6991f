package localaws

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// checkQuery reads an AWS Query request: a form whose Action is a known
// operation and whose Version is the service's (Config.TargetPrefix). The
// form stays in r.Form; the operation gets the raw body.
func (s *Server) checkQuery(r *http.Request) (Operation, []byte, *Error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, nil, &Error{Status: http.StatusBadRequest, Type: "MalformedQueryString", Message: "reading the body: " + err.Error()}
	}
	if len(body) > MaxBodyBytes {
		return nil, nil, &Error{Status: http.StatusRequestEntityTooLarge, Type: "RequestEntityTooLarge", Message: "request body too large"}
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, nil, &Error{Status: http.StatusBadRequest, Type: "MalformedQueryString", Message: "the body is not a form: " + err.Error()}
	}
	r.Form = form
	op, ok := s.cfg.Operations[form.Get("Action")]
	if !ok {
		return nil, nil, &Error{Status: http.StatusBadRequest, Type: "InvalidAction", Message: fmt.Sprintf("The action %q is not valid for this endpoint.", form.Get("Action"))}
	}
	if v := form.Get("Version"); v != s.cfg.TargetPrefix {
		return nil, nil, &Error{Status: http.StatusBadRequest, Type: "InvalidParameterValue", Message: fmt.Sprintf("unsupported Version %q", v)}
	}
	return op, body, nil
}

// DecodeForm parses an AWS Query operation's body.
func DecodeForm(body []byte) (url.Values, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Type: "MalformedQueryString", Message: err.Error()}
	}
	return v, nil
}

type queryResponse struct {
	XMLName  xml.Name
	Xmlns    string `xml:"xmlns,attr,omitempty"`
	Result   queryResult
	Metadata struct {
		RequestID string `xml:"RequestId"`
	} `xml:"ResponseMetadata"`
}

type queryResult struct {
	XMLName xml.Name
	Inner   []byte `xml:",innerxml"`
}

func (s *Server) writeQuery(w http.ResponseWriter, action string, out any, err error) {
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			e = &Error{Status: http.StatusInternalServerError, Type: s.cfg.InternalErrorType, Message: err.Error()}
		}
		writeQueryError(w, e)
		return
	}
	var inner bytes.Buffer
	if out != nil {
		if err := xml.NewEncoder(&inner).Encode(out); err != nil {
			writeQueryError(w, &Error{Status: http.StatusInternalServerError, Type: s.cfg.InternalErrorType, Message: "local endpoint could not encode its response"})
			return
		}
	}
	resp := queryResponse{XMLName: xml.Name{Local: action + "Response"}}
	resp.Result = queryResult{XMLName: xml.Name{Local: action + "Result"}, Inner: inner.Bytes()}
	resp.Metadata.RequestID = NewID()
	writeXML(w, http.StatusOK, resp)
}

// writeQueryError writes e as AWS Query services do:
// <ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>.
func writeQueryError(w http.ResponseWriter, e *Error) {
	kind := "Sender"
	if e.Status >= 500 {
		kind = "Receiver"
	}
	type errorBody struct {
		Type    string
		Code    string
		Message string
	}
	writeXML(w, e.Status, struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Error     errorBody
		RequestID string `xml:"RequestId"`
	}{Error: errorBody{kind, e.Type, e.Message}, RequestID: NewID()})
}

func writeXML(w http.ResponseWriter, status int, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code></Error></ErrorResponse>`)
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", NewID())
	w.WriteHeader(status)
	_, _ = w.Write(append([]byte(xml.Header), body...))
}
