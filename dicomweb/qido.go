package dicomweb

// RepairQuery rewrites a QIDO-RS raw query for Orthanc 1.10.
func RepairQuery(rawQuery string) string { return rawQuery }
