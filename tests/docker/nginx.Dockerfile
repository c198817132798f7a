# Stand-in for nginx:alpine (no Alpine here): Debian's nginx on the
# debian:12-slim stand-in, laid out like the official image (conf.d only,
# logs to the container's stdout and stderr). Built with --network host.
FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \
 && ln -sf /dev/stdout /var/log/nginx/access.log \
 && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
