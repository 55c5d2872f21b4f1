/* fs.c: directories for the stores (LMDB environments, ledgers). */
#include "core.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define PATH_BYTES_MAX 4096

int ps_mkdir_p(const char *dir, unsigned mode)
{
	char path[PATH_BYTES_MAX];
	size_t len = strlen(dir);
	if (len == 0 || len >= sizeof(path))
		return PS_EINVAL;
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char saved = path[i];
		path[i] = '\0';
		if (mkdir(path, (mode_t)mode) != 0 && errno != EEXIST)
			return PS_EIO;
		path[i] = saved;
	}
	struct stat st;
	if (stat(dir, &st) != 0)
		return PS_EIO;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return PS_EIO;
	}
	return 0;
}
