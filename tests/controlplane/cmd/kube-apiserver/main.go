// Command kube-apiserver is the upstream API server, built from k8s.io/kubernetes
// so the test harness has a real control plane without Docker or release downloads.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
