// Command kube-controller-manager runs the upstream controllers the tests rely on
// (job, garbage collector, namespace, service-account token).
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
