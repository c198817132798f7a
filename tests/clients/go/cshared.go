// cshared: a Go library built with -buildmode=c-shared, for a C program
// (cgo_host.c) or Python (ctypes) to load. It carries a Go runtime, with
// crosscall2 and _cgo_topofstack, but the program that loads it is not Go:
// its own libc calls must still be redirected (issue 14 item 8).
package main

import "C"

//export GoAnswer
func GoAnswer() C.int { return 42 }

func main() {}
