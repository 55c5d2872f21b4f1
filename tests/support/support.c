/* support.c: processes, ready files and loopback clients for integration tests. */
#include "support.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

static void die(const char *fmt, const char *detail)
{
	fprintf(stderr, "test support: ");
	fprintf(stderr, fmt, detail);
	fprintf(stderr, "\n");
	abort();
}

uint64_t ts_now_ms(void)
{
	return ps_mono_ms();
}

void ts_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- files ------------------------------------------------------------------ */

void ts_tmpdir(const char *tag, char *out, size_t cap)
{
	const char *base = getenv("TMPDIR");
	snprintf(out, cap, "%s/payswitch-%s-XXXXXX", base && *base ? base : "/tmp",
		 tag);
	if (mkdtemp(out) == NULL)
		die("mkdtemp failed for %s", out);
}

void ts_rmrf(const char *path)
{
	/* PS_TEST_KEEP=1 keeps every scratch directory (logs, stores) for a
	 * look after a failure. */
	const char *keep = getenv("PS_TEST_KEEP");
	if (keep != NULL && keep[0] == '1')
		return;
	DIR *d = opendir(path);
	if (d == NULL) {
		unlink(path);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char child[1024];
		snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
		struct stat st;
		if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
			ts_rmrf(child);
		else
			unlink(child);
	}
	closedir(d);
	rmdir(path);
}

void ts_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		die("cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

const char *ts_bin(const char *name)
{
	static char paths[8][512];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, 512, "%s/%s", PS_BIN_DIR, name);
	return p;
}

/* ---- processes ---------------------------------------------------------------- */

void ts_proc_start(ts_proc_t *p, const char *log_path, char *const argv[])
{
	memset(p, 0, sizeof(*p));
	const char *base = strrchr(argv[0], '/');
	ps_strlcpy(p->name, base ? base + 1 : argv[0], sizeof(p->name));
	ps_strlcpy(p->log, log_path, sizeof(p->log));
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		die("fork failed for %s", argv[0]);
	if (pid == 0) {
		/* Die with the test, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0) {
			dup2(devnull, 0);
			close(devnull);
		}
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	p->pid = pid;
}

void ts_proc_signal(ts_proc_t *p, int sig)
{
	if (p->pid > 0 && !p->exited)
		kill(p->pid, sig);
}

bool ts_proc_wait(ts_proc_t *p, int timeout_ms)
{
	if (p->pid <= 0 || p->exited)
		return true;
	uint64_t end = ts_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		pid_t r = waitpid(p->pid, &p->status, WNOHANG);
		if (r == p->pid) {
			p->exited = true;
			return true;
		}
		if (ts_now_ms() >= end)
			return false;
		ts_sleep_ms(10);
	}
}

void ts_proc_kill(ts_proc_t *p)
{
	if (p->pid <= 0 || p->exited)
		return;
	kill(p->pid, SIGKILL);
	ts_proc_wait(p, 10000);
}

int ts_proc_exit_code(const ts_proc_t *p)
{
	if (!p->exited || !WIFEXITED(p->status))
		return -1;
	return WEXITSTATUS(p->status);
}

void ts_proc_dump(const ts_proc_t *p)
{
	FILE *f = fopen(p->log, "r");
	if (f == NULL)
		return;
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	size_t start = n > 6000 ? n - 6000 : 0;
	fprintf(stderr, "---- last output of %s (%s) ----\n%s\n----\n", p->name,
		p->log, buf + start);
}

json_t *ts_wait_ready(const char *path, ts_proc_t *proc, int timeout_ms)
{
	uint64_t end = ts_now_ms() + (uint64_t)timeout_ms;
	while (ts_now_ms() < end) {
		json_error_t err;
		json_t *j = json_load_file(path, 0, &err);
		if (j != NULL)
			return j;
		if (proc != NULL && waitpid(proc->pid, &proc->status, WNOHANG) == proc->pid) {
			proc->exited = true;
			ts_proc_dump(proc);
			die("%s exited before it was ready", proc->name);
		}
		ts_sleep_ms(20);
	}
	if (proc != NULL)
		ts_proc_dump(proc);
	die("no ready file at %s", path);
	return NULL;
}

uint16_t ts_ready_port(json_t *ready, const char *listener)
{
	json_t *l = json_object_get(json_object_get(ready, "listeners"), listener);
	if (!json_is_integer(l))
		die("ready file has no listener %s", listener);
	return (uint16_t)json_integer_value(l);
}

/* Reads what is there into out (bounded); false at end of file. */
static bool drain_fd(int fd, char *out, size_t cap, size_t *len)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));
	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	if (out != NULL && cap > 0) {
		size_t room = cap - 1 - *len;
		size_t take = (size_t)n < room ? (size_t)n : room;
		memcpy(out + *len, tmp, take);
		*len += take;
		out[*len] = '\0';
	}
	return true;
}

int ts_run(char *const argv[], const char *stdin_text, char *out, size_t cap,
	   char *err, size_t err_cap, int timeout_ms)
{
	int po[2], pe[2], pi[2];
	if (pipe(po) || pipe(pe) || pipe(pi))
		die("pipe failed%s", "");
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pi[0], 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(pi[0]);
		close(pi[1]);
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pi[0]);
	close(po[1]);
	close(pe[1]);
	signal(SIGPIPE, SIG_IGN);
	if (stdin_text != NULL) {
		size_t len = strlen(stdin_text), off = 0;
		while (off < len) {
			ssize_t n = write(pi[1], stdin_text + off, len - off);
			if (n <= 0)
				break;
			off += (size_t)n;
		}
	}
	close(pi[1]);
	if (out != NULL && cap > 0)
		out[0] = '\0';
	if (err != NULL && err_cap > 0)
		err[0] = '\0';
	size_t olen = 0, elen = 0;
	bool o_open = true, e_open = true, timed_out = false;
	uint64_t end = ts_now_ms() + (uint64_t)timeout_ms;
	while (o_open || e_open) {
		uint64_t now = ts_now_ms();
		if (now >= end) {
			timed_out = true;
			break;
		}
		struct pollfd fds[2] = {{o_open ? po[0] : -1, POLLIN, 0},
					{e_open ? pe[0] : -1, POLLIN, 0}};
		if (poll(fds, 2, (int)(end - now)) <= 0)
			continue;
		if (fds[0].revents)
			o_open = drain_fd(po[0], out, cap, &olen);
		if (fds[1].revents)
			e_open = drain_fd(pe[0], err, err_cap, &elen);
	}
	close(po[0]);
	close(pe[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* ---- clients ------------------------------------------------------------------ */

int ts_try_connect(uint16_t port)
{
	char address[32];
	snprintf(address, sizeof(address), "127.0.0.1:%u", port);
	int fd;
	return ps_tcp_connect(address, &fd) == 0 ? fd : -1;
}

int ts_connect(uint16_t port, int timeout_ms)
{
	uint64_t end = ts_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		int fd = ts_try_connect(port);
		if (fd >= 0)
			return fd;
		if (ts_now_ms() >= end)
			die("cannot connect to port %s", "(see the log)");
		ts_sleep_ms(20);
	}
}

void ts_send_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* the peer closed: the test's reads will say */
		p += n;
		len -= (size_t)n;
	}
}

bool ts_recv_exact(int fd, void *data, size_t len, int timeout_ms)
{
	uint8_t *p = data;
	uint64_t end = ts_now_ms() + (uint64_t)timeout_ms;
	while (len > 0) {
		uint64_t now = ts_now_ms();
		if (now >= end)
			return false;
		struct pollfd pfd = {fd, POLLIN, 0};
		int r = poll(&pfd, 1, (int)(end - now));
		if (r <= 0)
			continue;
		ssize_t n = recv(fd, p, len, 0);
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

bool ts_wait_closed(int fd, int timeout_ms)
{
	uint64_t end = ts_now_ms() + (uint64_t)timeout_ms;
	char buf[4096];
	while (ts_now_ms() < end) {
		struct pollfd pfd = {fd, POLLIN, 0};
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			return true;
	}
	return false;
}

void ts_send_line(int fd, const char *line)
{
	ts_send_all(fd, line, strlen(line));
	ts_send_all(fd, "\n", 1);
}

/* Bytes read past a line, per descriptor (tests use few descriptors). */
#define STASH_FDS 64
static char stash[STASH_FDS][65536];
static size_t stash_len[STASH_FDS];

bool ts_recv_line(int fd, char *out, size_t cap, int timeout_ms)
{
	PS_ASSERT(fd >= 0 && fd < STASH_FDS);
	uint64_t end = ts_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		char *nl = memchr(stash[fd], '\n', stash_len[fd]);
		if (nl != NULL) {
			size_t n = (size_t)(nl - stash[fd]);
			size_t take = n < cap - 1 ? n : cap - 1;
			memcpy(out, stash[fd], take);
			out[take] = '\0';
			memmove(stash[fd], nl + 1, stash_len[fd] - n - 1);
			stash_len[fd] -= n + 1;
			return true;
		}
		if (stash_len[fd] == sizeof(stash[fd]))
			return false;
		/* A zero timeout still reads what is already there. */
		uint64_t now = ts_now_ms();
		struct pollfd pfd = {fd, POLLIN, 0};
		if (poll(&pfd, 1, now >= end ? 0 : (int)(end - now)) <= 0) {
			if (ts_now_ms() >= end)
				return false;
			continue;
		}
		ssize_t r = recv(fd, stash[fd] + stash_len[fd],
				 sizeof(stash[fd]) - stash_len[fd], 0);
		if (r <= 0) {
			stash_len[fd] = 0;
			return false;
		}
		stash_len[fd] += (size_t)r;
	}
}

/* Answers read while waiting for another id, per descriptor. */
#define PARKED_MAX 256
static struct {
	int fd;
	json_t *answer;
} parked[PARKED_MAX];

json_t *ts_json_wait(int fd, const char *id, int timeout_ms)
{
	for (int i = 0; i < PARKED_MAX; i++) {
		if (parked[i].answer == NULL || parked[i].fd != fd)
			continue;
		const char *got = json_string_value(json_object_get(parked[i].answer, "id"));
		if (id[0] == '\0' || (got && strcmp(got, id) == 0)) {
			json_t *a = parked[i].answer;
			parked[i].answer = NULL;
			return a;
		}
	}
	uint64_t end = ts_now_ms() + (uint64_t)timeout_ms;
	static char text[TXN_JSON_LINE_MAX];
	json_error_t jerr;
	while (ts_now_ms() < end) {
		if (!ts_recv_line(fd, text, sizeof(text), (int)(end - ts_now_ms())))
			return NULL;
		json_t *a = json_loads(text, 0, &jerr);
		if (a == NULL)
			continue;
		const char *got = json_string_value(json_object_get(a, "id"));
		if (id[0] == '\0' || (got && strcmp(got, id) == 0))
			return a;
		for (int i = 0; i < PARKED_MAX; i++)
			if (parked[i].answer == NULL) {
				parked[i].fd = fd;
				parked[i].answer = a;
				a = NULL;
				break;
			}
		json_decref(a);
	}
	return NULL;
}

json_t *ts_json_call(int fd, const char *line, int timeout_ms)
{
	json_error_t jerr;
	json_t *req = json_loads(line, 0, &jerr);
	const char *id = req ? json_string_value(json_object_get(req, "id")) : NULL;
	char want[128] = "";
	if (id != NULL)
		ps_strlcpy(want, id, sizeof(want));
	json_decref(req);
	ts_send_line(fd, line);
	return ts_json_wait(fd, want, timeout_ms);
}

void ts_iso_purchase(iso8583_msg_t *m, const char *pan, int64_t amount,
		     const char *transmit, uint32_t stan, const char *acquirer)
{
	if (strlen(transmit) != 10)
		die("ts_iso_purchase: transmit must be MMDDhhmmss, not %s", transmit);
	iso8583_msg_init(m, iso8583_dialect_builtin("ascii"));
	iso8583_set_mti(m, "0200");
	iso8583_set_str(m, 2, pan);
	iso8583_set_str(m, 3, "000000");
	iso8583_set_num(m, 4, (uint64_t)amount);
	iso8583_set_str(m, 7, transmit);
	iso8583_set_num(m, 11, stan);
	iso8583_set_str(m, 12, transmit + 4);   /* hhmmss */
	iso8583_set(m, 13, transmit, 4);        /* MMDD */
	iso8583_set_str(m, 32, acquirer);
	iso8583_set_str(m, 41, "TERM0001");
	iso8583_set_str(m, 42, "MERCHANT0000001");
	iso8583_set_str(m, 49, "156");
}

void ts_iso_send(int fd, const iso8583_msg_t *msg)
{
	uint8_t buf[8192];
	size_t len = 0;
	iso8583_error_t err;
	if (iso8583_pack(msg, buf + 2, sizeof(buf) - 2, &len, &err) != 0) {
		char text[256];
		die("pack failed: %s", iso8583_error_format(&err, text, sizeof(text)));
	}
	buf[0] = (uint8_t)(len >> 8);
	buf[1] = (uint8_t)len;
	ts_send_all(fd, buf, len + 2);
}

bool ts_iso_recv(int fd, const iso8583_dialect_t *dialect, iso8583_msg_t *msg,
		 uint8_t *buf, size_t cap, int timeout_ms)
{
	uint8_t head[2];
	if (!ts_recv_exact(fd, head, 2, timeout_ms))
		return false;
	size_t len = ps_be16_get(head);
	if (len > cap || !ts_recv_exact(fd, buf, len, timeout_ms))
		return false;
	iso8583_error_t err;
	return iso8583_unpack(msg, dialect, buf, len, &err) == 0;
}

json_t *ts_control(uint16_t port, const char *cmd)
{
	int fd = ts_connect(port, 5000);
	char line[256];
	snprintf(line, sizeof(line), "{\"cmd\":\"%s\"}", cmd);
	ts_send_line(fd, line);
	char text[65536];
	json_t *j = NULL;
	if (ts_recv_line(fd, text, sizeof(text), 5000))
		j = json_loads(text, 0, NULL);
	close(fd);
	return j;
}

uint16_t ts_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	socklen_t len = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &len);
	close(fd);
	return ntohs(a.sin_port);
}
