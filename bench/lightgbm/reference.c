// LightGBM's own single-threaded predict, timed as augur's
// BenchmarkPredictDense1M times its dense path: 1,000,000 rows (a model's
// published test rows, cycled through a 65,536-row matrix) in 2048-row
// batches, through LightGBM's C API (LGBM_BoosterPredictForMat, normal
// prediction, num_threads=1), CPU time from getrusage. Built and run by
// reference.sh.
//
//	reference MODEL ROWS.tsv SKIP_COLUMNS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <LightGBM/c_api.h>

static double cpu_seconds(void) {
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
	if (argc != 4) {
		fprintf(stderr, "usage: reference MODEL ROWS.tsv SKIP_COLUMNS\n");
		return 2;
	}
	BoosterHandle b;
	int iters;
	if (LGBM_BoosterCreateFromModelfile(argv[1], &iters, &b) != 0) {
		fprintf(stderr, "%s\n", LGBM_GetLastError());
		return 1;
	}
	int nf, classes, trees;
	LGBM_BoosterGetNumFeature(b, &nf);
	LGBM_BoosterGetNumClasses(b, &classes);
	LGBM_BoosterNumberOfTotalModel(b, &trees);
	int skip = atoi(argv[3]);
	FILE *f = fopen(argv[2], "r");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	enum { held = 1 << 16, batch = 2048, rows = 1000000 };
	double *src = malloc(sizeof(double) * nf * 4096);
	int n = 0;
	char line[1 << 16];
	while (n < 4096 && fgets(line, sizeof line, f)) {
		char *p = line, *end;
		for (int c = 0; c < skip; c++) strtod(p, &p);
		int k = 0;
		for (; k < nf; k++) {
			double v = strtod(p, &end);
			if (end == p) break;
			src[n * nf + k] = v;
			p = end;
		}
		if (k == nf) n++;
	}
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "%s: no rows of %d features\n", argv[2], nf);
		return 1;
	}
	double *x = malloc(sizeof(double) * nf * held);
	for (int r = 0; r < held; r++) memcpy(x + (size_t)r * nf, src + (size_t)(r % n) * nf, sizeof(double) * nf);
	double *out = malloc(sizeof(double) * batch * (classes > 1 ? classes : 1));
	int64_t got;
	double t0 = cpu_seconds();
	for (int done = 0; done < rows; done += batch) {
		int start = done % held, m = batch;
		if (rows - done < m) m = rows - done;
		if (held - start < m) m = held - start;
		if (LGBM_BoosterPredictForMat(b, x + (size_t)start * nf, C_API_DTYPE_FLOAT64, m, nf, 1, C_API_PREDICT_NORMAL,
		                              0, -1, "num_threads=1", &got, out) != 0) {
			fprintf(stderr, "%s\n", LGBM_GetLastError());
			return 1;
		}
	}
	double cpu = cpu_seconds() - t0;
	printf("%s: %d trees, %d rows of %d features (from %d): %.2f cpu-ns/tree-row, %.0f rows/s of CPU\n",
	       argv[1], trees, rows, nf, n, cpu * 1e9 / rows / trees, rows / cpu);
	LGBM_BoosterFree(b);
	return 0;
}
