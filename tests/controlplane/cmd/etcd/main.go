// Command etcd is etcd's own entry point, at the version k8s.io/kubernetes requires,
// so the API server and its storage come from one consistent module graph.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
