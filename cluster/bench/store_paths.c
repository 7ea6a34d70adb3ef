/* The ways an MPI run could store its results, timed side by side on the
 * same data (cluster/README.md, "Why rank 0 writes"). Not part of the build:
 * it needs the parallel HDF5 of libhdf5-openmpi-dev, which coopsweep does not
 * use; cluster/bench/measure-store.sh fetches, builds and runs it.
 *
 *   mpirun -np R store_paths MODE RUNS BLOCK DIR
 *
 * RUNS runs of 12 float64 metrics, in blocks of BLOCK runs; block b is made
 * by rank b mod R. The final file is what coopsweep finishes with: chunks of
 * 64Ki elements, deflate level 1. MODE:
 *   gather      ranks send their blocks to rank 0, which writes them in run
 *               order to a contiguous file (sec2), then copies it compressed
 *               (what coopsweep does: cluster/mpi.hpp)
 *   shards      each rank writes its blocks to a file of its own, then rank 0
 *               reads them all and writes the compressed file (a merge)
 *   collective  one shared contiguous file through MPI-IO, each round every
 *               rank writes one block collectively; then rank 0 compresses
 *   collective-deflate
 *               one shared chunked, deflated file written collectively
 *               (parallel filters, HDF5 >= 1.10.2); no copy at the end
 * Prints one line: mode, ranks, runs, seconds writing, seconds finishing,
 * seconds in all (rank 0's clock, from a barrier to the final file closed). */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>
#include <mpi.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define METRICS 12
#define CHUNK 65536

/* Waits at a barrier without spinning: Open MPI's blocking waits keep a core
 * busy, which on a small machine slows the rank that still works (rank 0
 * finishing the file) as coopsweep's own waits, which poll and sleep, do not. */
static void quiet_barrier(void) {
  MPI_Request request;
  int done = 0;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  while (1) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    struct timespec pause = {0, 1000000};
    nanosleep(&pause, NULL);
  }
}

static void must(int ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "store_paths: %s failed\n", what);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
}

/* Values shaped like coopsweep's metrics: shares with few distinct values,
 * round counts, and continuous payoffs. */
static double value(int metric, int64_t run) {
  uint64_t h = (uint64_t)run * 0x9E3779B97F4A7C15ull + (uint64_t)metric * 0xC2B2AE3D27D4EB4Full;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  if (metric >= 6 && metric <= 8) return (double)(h % 5) / 4.0;
  if (metric >= 10) return (double)(h % 200);
  return sin((double)run * 1e-4 * (metric + 1)) + (double)(h % 1000) * 1e-6;
}

static void fill_block(double* out, int64_t first, int64_t count) {
  for (int m = 0; m < METRICS; ++m)
    for (int64_t i = 0; i < count; ++i) out[m * count + i] = value(m, first + i);
}

static hid_t create_file(const char* path, hid_t fapl) {
  hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  must(file >= 0, "H5Fcreate");
  return file;
}

/* Contiguous, allocated and filled with NaN at creation, as coopsweep's partial file. */
static void create_contiguous(hid_t file, int64_t runs, hid_t* datasets) {
  hsize_t dims = (hsize_t)runs;
  hid_t space = H5Screate_simple(1, &dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  double fill = NAN;
  H5Pset_layout(dcpl, H5D_CONTIGUOUS);
  H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
  H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &fill);
  H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
  for (int m = 0; m < METRICS; ++m) {
    char name[16];
    snprintf(name, sizeof name, "m%d", m);
    datasets[m] = H5Dcreate2(file, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    must(datasets[m] >= 0, "H5Dcreate2");
  }
  H5Pclose(dcpl);
  H5Sclose(space);
}

static void create_compressed(hid_t file, int64_t runs, hid_t* datasets) {
  hsize_t dims = (hsize_t)runs;
  hsize_t chunk = runs < CHUNK ? (hsize_t)runs : CHUNK;
  hid_t space = H5Screate_simple(1, &dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  double fill = NAN;
  H5Pset_chunk(dcpl, 1, &chunk);
  H5Pset_deflate(dcpl, 1);
  H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &fill);
  for (int m = 0; m < METRICS; ++m) {
    char name[16];
    snprintf(name, sizeof name, "m%d", m);
    datasets[m] = H5Dcreate2(file, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    must(datasets[m] >= 0, "H5Dcreate2");
  }
  H5Pclose(dcpl);
  H5Sclose(space);
}

/* Writes (or reads) elements [first, first + count) of each dataset from
 * `data` (metric-major); `count` 0 takes part in a collective call with nothing. */
static void transfer(hid_t* datasets, int64_t first, int64_t count, double* data, hid_t dxpl, int write) {
  for (int m = 0; m < METRICS; ++m) {
    hid_t space = H5Dget_space(datasets[m]);
    hsize_t start = (hsize_t)first, n = (hsize_t)count;
    hid_t memory = H5Screate_simple(1, &n, NULL);
    if (count > 0) {
      H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, NULL, &n, NULL);
    } else {
      H5Sselect_none(space);
      H5Sselect_none(memory);
    }
    herr_t status = write ? H5Dwrite(datasets[m], H5T_NATIVE_DOUBLE, memory, space, dxpl, data + m * count)
                          : H5Dread(datasets[m], H5T_NATIVE_DOUBLE, memory, space, dxpl, data + m * count);
    must(status >= 0, write ? "H5Dwrite" : "H5Dread");
    H5Sclose(memory);
    H5Sclose(space);
  }
}

static void close_all(hid_t file, hid_t* datasets) {
  for (int m = 0; m < METRICS; ++m) H5Dclose(datasets[m]);
  must(H5Fclose(file) >= 0, "H5Fclose");
}

/* Rank 0: the compressed final file from `read_block` (runs in order), chunk by chunk. */
typedef void (*ReadBlock)(void* state, int64_t first, int64_t count, double* out);
static void write_final(const char* path, int64_t runs, ReadBlock read_block, void* state) {
  hid_t datasets[METRICS];
  hid_t file = create_file(path, H5P_DEFAULT);
  create_compressed(file, runs, datasets);
  double* buffer = malloc(sizeof(double) * METRICS * CHUNK);
  for (int64_t first = 0; first < runs; first += CHUNK) {
    int64_t count = runs - first < CHUNK ? runs - first : CHUNK;
    read_block(state, first, count, buffer);
    transfer(datasets, first, count, buffer, H5P_DEFAULT, 1);
  }
  free(buffer);
  close_all(file, datasets);
}

static void read_contiguous(void* state, int64_t first, int64_t count, double* out) {
  transfer((hid_t*)state, first, count, out, H5P_DEFAULT, 0);
}

/* Shards: rank r's file holds its blocks in order; run -> (shard, index). */
struct Shards {
  int ranks;
  int64_t block;
  hid_t files[256];
  hid_t datasets[256][METRICS];
};
static void read_shards(void* state, int64_t first, int64_t count, double* out) {
  struct Shards* s = state;
  double* piece = malloc(sizeof(double) * METRICS * (size_t)s->block);
  for (int64_t run = first; run < first + count;) {
    int64_t b = run / s->block, offset = run % s->block;
    int64_t n = s->block - offset < first + count - run ? s->block - offset : first + count - run;
    int shard = (int)(b % s->ranks);
    int64_t index = (b / s->ranks) * s->block + offset;
    transfer(s->datasets[shard], index, n, piece, H5P_DEFAULT, 0);
    for (int m = 0; m < METRICS; ++m) memcpy(out + m * count + (run - first), piece + m * n, sizeof(double) * (size_t)n);
    run += n;
  }
  free(piece);
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, ranks;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  if (argc != 5) {
    if (rank == 0) fprintf(stderr, "usage: store_paths gather|shards|collective|collective-deflate RUNS BLOCK DIR\n");
    MPI_Finalize();
    return 2;
  }
  const char* mode = argv[1];
  const int64_t runs = atoll(argv[2]);
  const int64_t block = atoll(argv[3]);
  const char* dir = argv[4];
  const int64_t blocks = (runs + block - 1) / block;
  char partial[4096], final_path[4096];
  snprintf(partial, sizeof partial, "%s/partial.h5", dir);
  snprintf(final_path, sizeof final_path, "%s/final.h5", dir);
  double* data = malloc(sizeof(double) * METRICS * (size_t)block);
  double written = 0, finished = 0;

  MPI_Barrier(MPI_COMM_WORLD);
  const double start = MPI_Wtime();
  if (strcmp(mode, "gather") == 0) {
    if (rank == 0) {
      hid_t datasets[METRICS];
      hid_t file = create_file(partial, H5P_DEFAULT);
      create_contiguous(file, runs, datasets);
      for (int64_t b = 0; b < blocks; ++b) {
        int64_t first = b * block, count = runs - first < block ? runs - first : block;
        if (b % ranks == 0) {
          fill_block(data, first, count);
        } else {
          MPI_Recv(data, (int)(METRICS * count), MPI_DOUBLE, (int)(b % ranks), 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        }
        transfer(datasets, first, count, data, H5P_DEFAULT, 1);
      }
      H5Fflush(file, H5F_SCOPE_LOCAL);
      written = MPI_Wtime() - start;
      write_final(final_path, runs, read_contiguous, datasets);
      close_all(file, datasets);
    } else {
      for (int64_t b = rank; b < blocks; b += ranks) {
        int64_t first = b * block, count = runs - first < block ? runs - first : block;
        fill_block(data, first, count);
        MPI_Send(data, (int)(METRICS * count), MPI_DOUBLE, 0, 0, MPI_COMM_WORLD);
      }
    }
  } else if (strcmp(mode, "shards") == 0) {
    char shard_path[4096];
    snprintf(shard_path, sizeof shard_path, "%s/shard-%d.h5", dir, rank);
    int64_t mine = 0;
    for (int64_t b = rank; b < blocks; b += ranks) mine += runs - b * block < block ? runs - b * block : block;
    hid_t datasets[METRICS];
    hid_t file = create_file(shard_path, H5P_DEFAULT);
    create_contiguous(file, mine, datasets);
    int64_t at = 0;
    for (int64_t b = rank; b < blocks; b += ranks) {
      int64_t first = b * block, count = runs - first < block ? runs - first : block;
      fill_block(data, first, count);
      transfer(datasets, at, count, data, H5P_DEFAULT, 1);
      at += count;
    }
    close_all(file, datasets);
    quiet_barrier();
    written = MPI_Wtime() - start;
    if (rank == 0) {
      struct Shards* s = calloc(1, sizeof *s);
      s->ranks = ranks;
      s->block = block;
      for (int r = 0; r < ranks; ++r) {
        snprintf(shard_path, sizeof shard_path, "%s/shard-%d.h5", dir, r);
        s->files[r] = H5Fopen(shard_path, H5F_ACC_RDONLY, H5P_DEFAULT);
        must(s->files[r] >= 0, "H5Fopen");
        for (int m = 0; m < METRICS; ++m) {
          char name[16];
          snprintf(name, sizeof name, "m%d", m);
          s->datasets[r][m] = H5Dopen2(s->files[r], name, H5P_DEFAULT);
        }
      }
      write_final(final_path, runs, read_shards, s);
      for (int r = 0; r < ranks; ++r) close_all(s->files[r], s->datasets[r]);
      free(s);
    }
  } else if (strcmp(mode, "collective") == 0 || strcmp(mode, "collective-deflate") == 0) {
    const int deflate = strcmp(mode, "collective-deflate") == 0;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
    hid_t datasets[METRICS];
    hid_t file = create_file(deflate ? final_path : partial, fapl);
    if (deflate) {
      create_compressed(file, runs, datasets);
    } else {
      create_contiguous(file, runs, datasets);
    }
    for (int64_t round = 0; round * ranks < blocks; ++round) {
      int64_t b = round * ranks + rank;
      int64_t first = b * block, count = b < blocks ? (runs - first < block ? runs - first : block) : 0;
      if (count > 0) fill_block(data, first, count);
      transfer(datasets, count > 0 ? first : 0, count, data, dxpl, 1);
    }
    close_all(file, datasets);
    H5Pclose(dxpl);
    H5Pclose(fapl);
    quiet_barrier();
    written = MPI_Wtime() - start;
    if (rank == 0 && !deflate) {
      hid_t contiguous[METRICS];
      hid_t source = H5Fopen(partial, H5F_ACC_RDONLY, H5P_DEFAULT);
      for (int m = 0; m < METRICS; ++m) {
        char name[16];
        snprintf(name, sizeof name, "m%d", m);
        contiguous[m] = H5Dopen2(source, name, H5P_DEFAULT);
      }
      write_final(final_path, runs, read_contiguous, contiguous);
      close_all(source, contiguous);
    }
  } else {
    if (rank == 0) fprintf(stderr, "store_paths: unknown mode '%s'\n", mode);
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  quiet_barrier();
  const double total = MPI_Wtime() - start;
  finished = total - written;
  if (rank == 0) {
    /* A check that the final file holds the values: a few runs read back. */
    hid_t file = H5Fopen(final_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    must(file >= 0, "opening the final file");
    for (int64_t run = 0; run < runs; run += runs / 7 + 1) {
      for (int m = 0; m < METRICS; ++m) {
        char name[16];
        snprintf(name, sizeof name, "m%d", m);
        hid_t dataset = H5Dopen2(file, name, H5P_DEFAULT);
        hid_t space = H5Dget_space(dataset);
        hsize_t at = (hsize_t)run, one = 1;
        hid_t memory = H5Screate_simple(1, &one, NULL);
        H5Sselect_hyperslab(space, H5S_SELECT_SET, &at, NULL, &one, NULL);
        double got = NAN;
        must(H5Dread(dataset, H5T_NATIVE_DOUBLE, memory, space, H5P_DEFAULT, &got) >= 0, "H5Dread");
        must(got == value(m, run), "the final file's values");
        H5Sclose(memory);
        H5Sclose(space);
        H5Dclose(dataset);
      }
    }
    H5Fclose(file);
    printf("%s %d %lld %.3f %.3f %.3f\n", mode, ranks, (long long)runs, written, finished, total);
  }
  free(data);
  MPI_Finalize();
  return 0;
}
