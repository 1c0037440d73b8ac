package ntfs

// loadLabel reads the volume name from $Volume's $VOLUME_NAME attribute.
func (f *FS) loadLabel() (string, error) {
	n, err := f.node(volumeRecord)
	if err != nil {
		return "", err
	}
	if a := firstAttr(n.attrs, attrVolumeName); a != nil && a.resident {
		return decodeUTF16(a.value), nil
	}
	return "", nil
}
