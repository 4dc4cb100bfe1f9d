#pragma once
// A fresh Store in its own scratch directory under $TMPDIR, removed afterwards.
#include "storage/store.hpp"
#include "support/temp_dir.hpp"

namespace heal::bench {

class BenchDatabase {
public:
    BenchDatabase() : store_(dir_ / "heal.db") {}
    Store& store() { return store_; }

private:
    test::TempDir dir_;
    Store store_;  // declared after dir_, so closed before the directory goes
};

}  // namespace heal::bench
