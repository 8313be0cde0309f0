/*
 * fcgi_trivial.c - the peer of bench.sh's HTTP measurements: the least a
 * libfcgi responder can do.  It listens on a unix socket, forks N
 * workers (as `concord serve --workers N` does), and answers every
 * request with a fixed small JSON body and the headers Concord sends
 * on every answer, without reading the request beyond its parameters.
 * A measuring program, not a test: built and run by tests/bench/bench.sh.
 *
 * usage: fcgi_trivial SOCKET WORKERS [close]
 *   close: end each connection as Concord's worker does (fcgi/server.c):
 *   FCGX_Detach() before FCGX_Finish_r(), so libfcgi closes at once
 *   instead of its lingering close (shutdown, then poll() and read()
 *   until the web server closes its end).  Without it, plain libfcgi.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>

static const char body[] = "{\"ok\":true,\"status\":\"ok\"}";

static int
serve(int fd, int detach)
{
	FCGX_Request r;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, fd, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		FCGX_FPrintF(r.out, "Status: 200 OK\r\n"
		    "Content-Type: application/json\r\n"
		    "Content-Length: %d\r\n"
		    "X-Request-Id: 0123456789abcdef0123456789abcdef\r\n"
		    "X-Content-Type-Options: nosniff\r\n"
		    "Referrer-Policy: no-referrer\r\n"
		    "Cache-Control: no-store\r\n\r\n", (int)sizeof(body) - 1);
		FCGX_PutStr(body, (int)sizeof(body) - 1, r.out);
		if (detach)
			FCGX_Detach(&r);
		FCGX_Finish_r(&r);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	int fd, i, n, detach;

	detach = argc == 4 && strcmp(argv[3], "close") == 0;
	if ((argc != 3 && !detach) || (n = atoi(argv[2])) < 1 || n > 64 ||
	    strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: fcgi_trivial SOCKET WORKERS [close]\n");
		return 2;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, argv[1], strlen(argv[1]) + 1);
	unlink(argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(argv[1], 0666) != 0 || listen(fd, 128) != 0) {
		perror("fcgi_trivial");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < n; i++)
		if (fork() == 0) {
			/* a worker ends with its parent (bench.sh kills the
			 * parent only) */
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() == 1)
				_exit(0);
			_exit(serve(fd, detach));
		}
	while (wait(NULL) > 0)
		;
	return 0;
}
