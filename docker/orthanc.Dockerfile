# Orthanc from Debian 12's packages (Orthanc 1.10, DICOMweb plugin 1.7), the
# versions qcgate's tests run against, configured by docker/orthanc.json
# with the SEG filter docker/orthanc-seg-filter.lua.
# Build from the repository root:
#   docker build -f docker/orthanc.Dockerfile -t qcgate-orthanc .
FROM debian:bookworm-slim
RUN apt-get update \
	&& apt-get install -y --no-install-recommends orthanc orthanc-dicomweb \
	&& rm -rf /var/lib/apt/lists/* \
	&& install -d -o orthanc -g orthanc /var/lib/orthanc/db
COPY docker/orthanc.json docker/orthanc-seg-filter.lua /etc/qcgate-orthanc/
USER orthanc
EXPOSE 8042
CMD ["Orthanc", "/etc/qcgate-orthanc/orthanc.json"]
