// Package sample holds a small disk image embedded in snapwatch, so that a new user can see it
// work on any machine without a cloud account or a disk image of their own. scripts/make-sample.sh
// builds it with the real tools: a GPT disk (qcow2, compressed) with an EFI System partition
// (FAT16) and an ext4 root holding fake credentials, one of them deleted.
package sample

import (
	_ "embed"
	"os"
)

//go:embed sample.qcow2
var image []byte

// Image returns the sample disk image's bytes.
func Image() []byte { return image }

// Write stores the sample image at path (mode 0600), replacing a file already there.
func Write(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(image); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
