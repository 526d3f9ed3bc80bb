package integration

import "path/filepath"

// realData is the repository's copy of the real public SEG cases; its
// MANIFEST.md lists the facts the constants below come from, verified
// there with independent tools.
const realData = "../qc/testdata/real"

// realFile is the path of a file of a real case.
func realFile(caseName string, elem ...string) string {
	return filepath.Join(append([]string{realData, caseName}, elem...)...)
}

// The single-frame CT of highdicom-ct-binary-single-frame: a 39 KB CT
// image, Explicit VR Little Endian, StudyDescription "e+1".
var ctImage = realFile("highdicom-ct-binary-single-frame", "source", "ct_image.dcm")

const (
	ctImageSOP              = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"
	ctImageStudy            = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
	ctImageStudyDescription = "e+1"
)

// The case dcmqi-ct-liver-binary: a BINARY SEG of one segment ("Liver")
// over three CT slices, all present; 107098 foreground pixels.
const (
	liverCase         = "dcmqi-ct-liver-binary"
	liverSOP          = "1.2.276.0.7230010.3.1.4.0.42154.1458337731.665796"
	liverSeries       = "1.2.276.0.7230010.3.1.3.0.42154.1458337731.665795"
	liverStudy        = "1.2.392.200103.20080913.113635.0.2009.6.22.21.43.10.22941.1"
	liverSourceSeries = "1.2.392.200103.20080913.113635.1.2009.6.22.21.43.10.23430.1"
	liverVoxels       = 107098
)

// liverSEG and liverSources are the files of the liver case.
var (
	liverSEG     = realFile(liverCase, "liver.dcm")
	liverSources = []string{
		realFile(liverCase, "source", "ct-3slice-01.dcm"),
		realFile(liverCase, "source", "ct-3slice-02.dcm"),
		realFile(liverCase, "source", "ct-3slice-03.dcm"),
	}
)

// liverSourceSOPs are the SOP Instance UIDs of liverSources, in order.
var liverSourceSOPs = []string{
	"1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23431.1",
	"1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23432.1",
	"1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23433.1",
}

// The case orthanc-tcga-gbm-brats-3seg-source-missing: a BINARY SEG of
// three segments over 32 MR slices of which none is available.
const (
	gbmCase   = "orthanc-tcga-gbm-brats-3seg-source-missing"
	gbmSOP    = "1.2.276.0.7230010.3.1.4.8323329.356949.1540933411.360229"
	gbmSeries = "1.2.276.0.7230010.3.1.3.8323329.356949.1540933411.360228"
	gbmStudy  = "1.3.6.1.4.1.14519.5.2.1.7695.4001.775866763600199916309126131064"
)

// gbmSEG is the file of the GBM case.
var gbmSEG = realFile(gbmCase, "DicomSeg.dcm")
