package dicomweb

import "context"

// OrthancSetMetadata sets user metadata on an instance in Orthanc.
func (c *Client) OrthancSetMetadata(ctx context.Context, sopInstanceUID, name, value string) error {
	return nil
}
