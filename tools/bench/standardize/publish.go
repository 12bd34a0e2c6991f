package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

// runPublish invokes the handler on every line, as the Lambda runtime
// invokes the function with each payload.
func runPublish(src *cloudtrail.Source, maxBytes int, files []string) error {
	ctx := context.Background()
	if os.Getenv("AWS_ENDPOINT_URL_EVENTBRIDGE") == "" {
		return fmt.Errorf("-publish sends to AWS_ENDPOINT_URL_EVENTBRIDGE (a -sink's URL), which is not set")
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	pub, err := eventbus.NewPublisher(eventbus.NewClient(awsCfg), eventbus.Config{
		BusName: deployedEnv[cloudtrail.EnvEventBusName], MaxRequestBytes: maxBytes, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return err
	}
	h := &cloudtrail.Handler{Source: src, Publisher: pub, Logger: slog.New(slog.DiscardHandler)}
	var batches int
	err = eachLine(files, func(line []byte) error {
		batches++
		_, err := h.Invoke(ctx, line)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Printf("batches %d published\n", batches)
	return nil
}

// sink serves PutEvents on loopback until killed: every entry is put.
func sink() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("http://%s\n", ln.Addr())
	os.Stdout.Sync()
	marker := []byte(`"DetailType":`)
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		n := bytes.Count(body, marker)
		var b strings.Builder
		b.WriteString(`{"FailedEntryCount":0,"Entries":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"EventId":"e%d"}`, i)
		}
		b.WriteString(`]}`)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		io.WriteString(w, b.String())
	}))
}
