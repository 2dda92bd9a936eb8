package main

import (
	"io"
	"os"
	"path/filepath"
)

// install copies the running executable to dest (mode 0555: nobody, not even its owner, can
// change it without a chmod), atomically, so the transform container never starts a half-copied
// launcher.
func install(dest string) error {
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		return err
	}
	defer self.Close()
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	return writeAtomically(dest, 0o555, func(w io.Writer) error {
		_, err := io.Copy(w, self)
		return err
	})
}
