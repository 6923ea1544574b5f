/* notify: systemd's readiness protocol (sd_notify) without libsystemd. */
#include "controller/serve/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int notify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	size_t len;
	int fd, rc = -1;

	if (!path || !*path)
		return 0;
	len = strlen(path);
	/* A path, or an abstract name written with a leading '@'; nothing else is systemd's. */
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(addr.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(addr.sun_path, path, len);
	if (path[0] == '@')
		addr.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, alen) >= 0)
		rc = 1;
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}
