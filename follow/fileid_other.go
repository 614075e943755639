//go:build !unix

package follow

import "os"

// fileID has no inode to offer here: rotation by rename is then seen only
// when the file at the path is smaller than what was read (as a truncation).
func fileID(os.FileInfo) (ID, bool) { return ID{}, false }

func linked(os.FileInfo) bool { return true }
