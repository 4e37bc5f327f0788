// Command kstatus prints what sigs.k8s.io/cli-utils/pkg/kstatus computes for one Kubernetes
// object: the readiness Flux (wait: true), kpt and kubectl apply tooling see. Ferry's tests feed it
// Migrations, DatabaseConnections and Projects with the statuses the operator writes.
//
//	kstatus < object.json    # {"status": "Current|InProgress|Failed|...", "message": "..."}
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// UnmarshalJSON keeps integers as int64, which kstatus's generation accessors expect.
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(data); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	result, err := status.Compute(obj)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := json.Marshal(map[string]string{"status": result.Status.String(), "message": result.Message})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}
