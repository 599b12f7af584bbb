# syntax=docker/dockerfile:1
# Build: docker build --build-arg LINKBFF_VERSION="$(git describe --tags --always --dirty)" -t linkbff .
# Run (dev mode, everything built in):
#   docker run -e ALLOW_NETWORK_DEV_MODE=true -p 8080:8080 linkbff
# Production: pass JUNCTION_API_KEY, PUBLIC_URL, AUTH_* … at run time (-e or
# an env file); nothing secret is baked into the image.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# What `linkbff --version` prints: the build context has no .git to ask.
ARG LINKBFF_VERSION=""
RUN sh scripts/build-static.sh /out && mkdir -p /out/data

# distroless/static: no shell, no package manager, runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/linkbff /linkbff
COPY --from=build /out/junction-emulator /junction-emulator
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
USER 65532:65532
# Inside a container the server must listen on all interfaces; in dev mode
# PUBLIC_URL then defaults to http://localhost:8080 (the published port).
ENV LISTEN_ADDR=0.0.0.0:8080 \
    DATABASE_URL=sqlite:/data/linkbff.db
EXPOSE 8080
ENTRYPOINT ["/linkbff"]
