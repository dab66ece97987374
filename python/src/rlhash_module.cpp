// rlhash._rlhash: the compiled half of the Python package. It takes arrays in exactly the layout
// the library uses (float32 [N, D] C-order features, uint64 [N, words] code words, int32 class
// ids or uint8 multi-hot labels) and never converts them: rlhash/__init__.py checks dtypes,
// shapes and contiguity and does the one conversion a caller's layout may need, so every array
// that reaches this file is read in place. The GIL is released while the library works.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "rlhash/bch/bch_code.hpp"
#include "rlhash/bch/label_embedding.hpp"
#include "rlhash/data/fashion_mnist.hpp"
#include "rlhash/eval/evaluate.hpp"
#include "rlhash/methods/model.hpp"
#include "rlhash/search/cpu_features.hpp"
#include "rlhash/search/hamming_index.hpp"
#include "rlhash/search/knn.hpp"
#include "rlhash/search/range.hpp"
#include "rlhash/version.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

using rlhash::Index;
using FeatureArray = nb::ndarray<const float, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using WordArray = nb::ndarray<const std::uint64_t, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using ClassIdArray = nb::ndarray<const std::int32_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using MultiHotArray = nb::ndarray<const std::uint8_t, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using IdArray = nb::ndarray<const std::int64_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

PyObject* format_error_type = nullptr;
PyObject* state_error_type = nullptr;

// ---- arrays in ----

/// Features [N, D] in C order are the library's D x N column-major matrix: no copy.
Eigen::Map<const rlhash::MatrixF> feature_matrix(const FeatureArray& x) {
  return {x.data(), static_cast<Index>(x.shape(1)), static_cast<Index>(x.shape(0))};
}

void require_finite(const Eigen::Map<const rlhash::MatrixF>& x, const char* name) {
  if (x.allFinite()) return;
  for (Index i = 0; i < x.cols(); ++i)
    if (!x.col(i).allFinite())
      throw rlhash::InvalidArgument(std::string(name) + ": row " + std::to_string(i) +
                                    " holds NaN or infinity; expected finite features");
}

/// Code words [N, ceil(bits/64)] as a view: no copy.
rlhash::CodesView codes_view(const WordArray& words, int bits, const char* name) {
  const auto expected = static_cast<std::size_t>((bits + 63) / 64);
  if (bits < 1 || bits > rlhash::BinaryCodes::max_bits || words.shape(1) != expected)
    throw rlhash::InvalidArgument(std::string(name) + ": " + std::to_string(words.shape(1)) +
                                  " words per code for " + std::to_string(bits) + " bits, expected " +
                                  std::to_string(expected));
  return {words.data(), static_cast<Index>(words.shape(0)), bits};
}

/// The evaluator reads BinaryCodes: one copy of the (small) code block, tail bits cleared.
rlhash::BinaryCodes binary_codes(const WordArray& words, int bits, const char* name) {
  const rlhash::CodesView view = codes_view(words, bits, name);
  rlhash::BinaryCodes codes(view.size, bits);
  if (view.size > 0) std::memcpy(codes.data(), view.data, sizeof(std::uint64_t) * view.size * view.words);
  for (Index i = 0; i < codes.size(); ++i) codes.row(i)[codes.words() - 1] &= codes.tail_mask();
  return codes;
}

/// Labels from a Python object: int32 class ids [N] or uint8 multi-hot [N, C].
rlhash::Labels labels_from(const nb::handle& labels, const char* name) {
  ClassIdArray ids;
  if (nb::try_cast(labels, ids, false)) {
    std::vector<std::int32_t> values(ids.data(), ids.data() + ids.shape(0));
    return rlhash::Labels::from_class_ids(values);
  }
  MultiHotArray hot;
  if (nb::try_cast(labels, hot, false))
    return rlhash::Labels::from_multi_hot(hot.data(), static_cast<Index>(hot.shape(0)),
                                          static_cast<int>(hot.shape(1)));
  throw rlhash::InvalidArgument(std::string(name) +
                                ": expected int32 class ids [N] or uint8 multi-hot [N, C]");
}

// ---- arrays out: the vectors move into the array's owner, no copy ----

/// The array owns `values` (a std::vector or an Eigen matrix) without copying it.
template <class Container, class T = std::remove_pointer_t<decltype(std::declval<Container&>().data())>>
nb::ndarray<nb::numpy, T> to_numpy(Container&& values, std::initializer_list<std::size_t> shape) {
  auto* owned = new Container(std::move(values));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<Container*>(p); });
  return nb::ndarray<nb::numpy, T>(owned->data(), shape, owner);
}

nb::ndarray<nb::numpy, std::uint64_t> words_to_numpy(const rlhash::BinaryCodes& codes) {
  std::vector<std::uint64_t> words(static_cast<std::size_t>(codes.size() * codes.words()));
  if (!words.empty()) std::memcpy(words.data(), codes.data(), words.size() * sizeof(std::uint64_t));
  return to_numpy(std::move(words),
                  {static_cast<std::size_t>(codes.size()), static_cast<std::size_t>(codes.words())});
}

nb::tuple knn_tuple(rlhash::KnnResult&& r) {
  const auto q = static_cast<std::size_t>(r.queries);
  const auto k = static_cast<std::size_t>(r.k);
  std::vector<std::int64_t> indices(r.indices.begin(), r.indices.end());
  return nb::make_tuple(to_numpy(std::move(r.distances), {q, k}), to_numpy(std::move(indices), {q, k}));
}

nb::tuple range_tuple(rlhash::RangeResult&& r) {
  const std::size_t lims = r.lims.size();
  const std::size_t n = r.indices.size();
  std::vector<std::int64_t> indices(r.indices.begin(), r.indices.end());
  return nb::make_tuple(to_numpy(std::move(r.lims), {lims}), to_numpy(std::move(r.distances), {n}),
                        to_numpy(std::move(indices), {n}));
}

/// Runs `work` with the GIL released (the arrays it reads are kept alive by the caller's frame).
template <class Work>
auto without_gil(Work&& work) {
  nb::gil_scoped_release released;
  return work();
}

// ---- threads: the CLI's --threads, for the duration of one call ----

class ThreadScope {
 public:
  explicit ThreadScope(int threads) {
    if (threads <= 0) return;
    saved_eigen_ = Eigen::nbThreads();
    Eigen::setNbThreads(threads);
#ifdef _OPENMP
    saved_omp_ = omp_get_max_threads();
    omp_set_num_threads(threads);
#endif
  }
  ~ThreadScope() {
    if (saved_eigen_ == 0) return;
    Eigen::setNbThreads(saved_eigen_);
#ifdef _OPENMP
    omp_set_num_threads(saved_omp_);
#endif
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int saved_eigen_ = 0;
  int saved_omp_ = 0;
};

// ---- the model: preprocessing plus a hasher, the same .rlh file as the CLI ----

bool is_identity(const rlhash::PreprocessConfig& c) {
  return c.scale == 1.0 && !c.center && c.pca_dims == 0 && !c.l2_normalize;
}

class PyModel {
 public:
  PyModel(const std::string& method, int bits, std::uint64_t seed) {
    model_.hasher = rlhash::make_hasher(method, bits, seed);
  }
  explicit PyModel(rlhash::Model model) : model_(std::move(model)), fitted_(true) {}

  std::string method() const { return model_.hasher.method(); }
  int bits() const { return model_.hasher.bits(); }
  bool fitted() const { return fitted_; }
  std::vector<std::pair<std::string, std::string>> config() const { return model_.hasher.config(); }
  std::vector<std::pair<std::string, std::string>> preprocess_config() const {
    return rlhash::field_values(model_.preprocessor.config());
  }
  void set(const std::string& field, const std::string& value) {
    require_unfitted("set a config field");
    model_.hasher.set(field, value);
  }
  void set_preprocess(const std::string& field, const std::string& value) {
    require_unfitted("change the preprocessing");
    auto config = model_.preprocessor.config();
    rlhash::set_field(config, field, value, "preprocess");
    model_.preprocessor = rlhash::Preprocessor(config);
  }

  void fit(const FeatureArray& x, const nb::object& labels, const nb::object& validation_x,
           const nb::object& validation_labels, int threads, const nb::object& progress,
           const rlhash::ImageAugmentation& augmentation) {
    const auto features = feature_matrix(x);
    // No labels: an empty set, which unsupervised methods ignore and supervised ones refuse.
    const rlhash::Labels y = labels.is_none() ? rlhash::Labels{} : labels_from(labels, "y");
    if (!labels.is_none() && y.size() != features.cols())
      throw rlhash::InvalidArgument("y: " + std::to_string(y.size()) + " labels for " +
                                    std::to_string(features.cols()) + " rows of X");
    std::optional<rlhash::MatrixF> vx;
    rlhash::Labels vy;
    if (!validation_x.is_none()) {
      const auto v = feature_matrix(nb::cast<FeatureArray>(validation_x, false));
      require_finite(v, "validation X");
      vx = rlhash::MatrixF(v);
      vy = labels_from(validation_labels, "validation y");
      if (vy.size() != vx->cols())
        throw rlhash::InvalidArgument("validation y: " + std::to_string(vy.size()) + " labels for " +
                                      std::to_string(vx->cols()) + " rows of validation X");
    }

    rlhash::FitOptions options;
    options.threads = threads;
    options.augmentation = augmentation;
    if (augmentation.enabled()) {
      const auto& p = model_.preprocessor.config();
      if (p.center || p.pca_dims > 0)
        throw rlhash::InvalidArgument(
            "augment: the features must be images, not centred or projected; set the preprocessing's center "
            "and pca_dims off");
      augmentation.validate(features.rows(), "augment");
    }
    // Every report checks for Ctrl-C and calls `progress` when given; a Python error raised there
    // stops the fit and is re-raised afterwards.
    std::exception_ptr callback_error;
    options.progress = [&progress, &callback_error](const rlhash::Progress& p) {
      nb::gil_scoped_acquire gil;
      try {
        if (PyErr_CheckSignals() != 0) throw nb::python_error();
        if (progress.is_none()) return true;
        const nb::object go_on = progress(p.stage, p.done, p.total, p.metrics);
        return go_on.is_none() || nb::cast<bool>(go_on);
      } catch (...) {
        callback_error = std::current_exception();
        return false;
      }
    };

    rlhash::Model trained = model_;
    {
      nb::gil_scoped_release released;
      require_finite(features, "X");
      ThreadScope scope(threads);
      trained.preprocessor.fit(features);
      const bool identity = is_identity(trained.preprocessor.config());
      if (vx) {
        if (!identity) *vx = trained.preprocessor.apply(*vx);
        options.validation_features = &*vx;
        options.validation_labels = &vy;
      }
      if (identity)
        trained.hasher.fit(features, y, options);
      else
        trained.hasher.fit(trained.preprocessor.apply(features), y, options);
    }
    if (callback_error) std::rethrow_exception(callback_error);
    model_ = std::move(trained);
    fitted_ = true;
  }

  nb::ndarray<nb::numpy, std::uint64_t> encode(const FeatureArray& x, int threads) const {
    if (!fitted_) throw rlhash::StateError(method() + ": encode() called before fit() or load()");
    rlhash::BinaryCodes codes;
    {
      nb::gil_scoped_release released;
      const auto features = feature_matrix(x);
      require_finite(features, "X");
      ThreadScope scope(threads);
      codes = is_identity(model_.preprocessor.config()) ? model_.hasher.encode(features)
                                                        : model_.encode(features);
    }
    return words_to_numpy(codes);
  }

  void save(const std::string& path) const {
    if (!fitted_) throw rlhash::StateError(method() + ": save() called before fit() or load()");
    nb::gil_scoped_release released;
    model_.save(path);
  }

  static PyModel load(const std::string& path) {
    return PyModel(without_gil([&] { return rlhash::Model::load(path); }));
  }

 private:
  void require_unfitted(const char* what) const {
    if (fitted_)
      throw rlhash::StateError(method() + ": cannot " + what + " of a fitted model; make a new Hasher");
  }
  rlhash::Model model_;
  bool fitted_ = false;
};

// ---- evaluation ----

nb::dict metrics(const WordArray& queries, const WordArray& database, int bits,
                 const nb::object& query_labels, const nb::object& database_labels, std::vector<int> map_at,
                 std::vector<int> precision_at, std::vector<int> ndcg_at, int radius, int threads,
                 bool exclude_self, bool whole_ranking) {
  const rlhash::BinaryCodes q = binary_codes(queries, bits, "query_codes");
  const rlhash::BinaryCodes db = binary_codes(database, bits, "db_codes");
  const rlhash::Labels ql = labels_from(query_labels, "query_labels");
  const rlhash::Labels dl = labels_from(database_labels, "db_labels");
  if (ql.size() != q.size())
    throw rlhash::InvalidArgument("query_labels: " + std::to_string(ql.size()) + " labels for " +
                                  std::to_string(q.size()) + " query codes");
  if (dl.size() != db.size())
    throw rlhash::InvalidArgument("db_labels: " + std::to_string(dl.size()) + " labels for " +
                                  std::to_string(db.size()) + " database codes");
  rlhash::EvalOptions options;
  options.map_at = std::move(map_at);
  options.precision_at = std::move(precision_at);
  options.ndcg_at = std::move(ndcg_at);
  options.radius = radius;
  options.threads = threads;
  options.exclude_self = exclude_self;
  options.whole_ranking = whole_ranking;
  const rlhash::EvalReport r = without_gil([&] { return rlhash::evaluate(q, db, ql, dl, options); });
  nb::dict out;
  nb::dict map_at_out, precision_out, ndcg_out;
  for (const auto& [k, v] : r.map_at) map_at_out[nb::int_(k)] = v;
  for (const auto& [k, v] : r.precision_at) precision_out[nb::int_(k)] = v;
  for (const auto& [k, v] : r.ndcg_at) ndcg_out[nb::int_(k)] = v;
  out["map_at"] = map_at_out;
  out["precision_at"] = precision_out;
  out["ndcg_at"] = ndcg_out;
  out["queries"] = r.queries;
  out["queries_without_relevant"] = r.queries_without_relevant;
  if (!whole_ranking) return out;  // the metrics of the whole ranking were not computed
  out["map"] = r.map;
  out["map_tie_aware"] = r.map_tie_aware;
  out["radius"] = r.radius;
  out["precision_radius"] = r.precision_radius;
  out["empty_radius"] = r.empty_radius;
  std::vector<double> precision, recall;
  for (const auto& point : r.pr) {
    precision.push_back(point.precision);
    recall.push_back(point.recall);
  }
  const std::size_t points = r.pr.size();
  out["pr_precision"] = to_numpy(std::move(precision), {points});
  out["pr_recall"] = to_numpy(std::move(recall), {points});
  return out;
}

// ---- BCH ----

nb::tuple bch_decode(const rlhash::BchCode& code, const WordArray& words) {
  const auto n = static_cast<std::size_t>(words.shape(0));
  const auto w = static_cast<std::size_t>(code.codeword_words());
  if (words.shape(1) != w)
    throw rlhash::InvalidArgument("words: " + std::to_string(words.shape(1)) +
                                  " words per codeword, expected " + std::to_string(w));
  std::vector<std::uint64_t> corrected(words.data(), words.data() + n * w);
  std::vector<std::int32_t> flips(n);
  {
    nb::gil_scoped_release released;
    rlhash::BchCode::Workspace ws;
    for (std::size_t i = 0; i < n; ++i) flips[i] = code.decode(corrected.data() + i * w, ws);
  }
  return nb::make_tuple(to_numpy(std::move(corrected), {n, w}), to_numpy(std::move(flips), {n}));
}

nb::ndarray<nb::numpy, std::uint64_t> bch_encode(const rlhash::BchCode& code, const WordArray& messages) {
  const auto n = static_cast<std::size_t>(messages.shape(0));
  const auto mw = static_cast<std::size_t>(code.message_words());
  const auto cw = static_cast<std::size_t>(code.codeword_words());
  if (messages.shape(1) != mw)
    throw rlhash::InvalidArgument("messages: " + std::to_string(messages.shape(1)) +
                                  " words per message, expected " + std::to_string(mw));
  std::vector<std::uint64_t> out(n * cw);
  {
    nb::gil_scoped_release released;
    for (std::size_t i = 0; i < n; ++i) code.encode(messages.data() + i * mw, out.data() + i * cw);
  }
  return to_numpy(std::move(out), {n, cw});
}

nb::ndarray<nb::numpy, std::int32_t> nearest_class(const rlhash::LabelEmbedding& e, const WordArray& words) {
  const rlhash::CodesView view = codes_view(words, e.bits(), "codes");
  std::vector<std::int32_t> out(static_cast<std::size_t>(view.size));
  for (Index i = 0; i < view.size; ++i) out[static_cast<std::size_t>(i)] = e.nearest_class(view.row(i));
  return to_numpy(std::move(out), {out.size()});
}

// ---- data ----

/// Images [N, 784] (uint8, C order: the library's 784 x N columns) and class ids [N].
nb::tuple images_and_labels(rlhash::Matrix<std::uint8_t>&& images, const rlhash::Labels& labels) {
  const auto n = static_cast<std::size_t>(images.cols());
  const auto d = static_cast<std::size_t>(images.rows());
  std::vector<std::int32_t> ids(n);
  for (std::size_t i = 0; i < n; ++i) ids[i] = labels.first_label(static_cast<Index>(i));
  return nb::make_tuple(to_numpy(std::move(images), {n, d}), to_numpy(std::move(ids), {n}));
}

nb::tuple fashion_mnist(const std::string& dir) {
  rlhash::FashionMnistRaw data = without_gil([&] { return rlhash::load_fashion_mnist_raw(dir); });
  return nb::make_tuple(images_and_labels(std::move(data.train_images), data.train_labels),
                        images_and_labels(std::move(data.test_images), data.test_labels), data.dir);
}

void translate_exceptions(const std::exception_ptr& error, void*) {
  try {
    std::rethrow_exception(error);
  } catch (const rlhash::FormatError& e) {
    PyErr_SetString(format_error_type, e.what());
  } catch (const rlhash::StateError& e) {
    PyErr_SetString(state_error_type, e.what());
  } catch (const rlhash::InvalidArgument& e) {
    PyErr_SetString(PyExc_ValueError, e.what());
  } catch (const rlhash::IoError& e) {
    PyErr_SetString(PyExc_OSError, e.what());
  } catch (const rlhash::OutOfMemory& e) {
    PyErr_SetString(PyExc_MemoryError, e.what());
  } catch (const rlhash::Error& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
}

}  // namespace

NB_MODULE(_rlhash, m) {
  m.doc() = "rlhash's compiled core; use the rlhash package, which checks and converts arguments.";
  m.attr("__version__") = RLHASH_VERSION_STRING;
  format_error_type = PyErr_NewExceptionWithDoc(
      "rlhash.FormatError", "A file does not follow its format (bad magic, truncated, checksum).",
      PyExc_ValueError, nullptr);
  state_error_type = PyErr_NewExceptionWithDoc(
      "rlhash.StateError", "An operation was called in a state that does not allow it (encode before fit).",
      PyExc_RuntimeError, nullptr);
  m.attr("FormatError") = nb::handle(format_error_type);
  m.attr("StateError") = nb::handle(state_error_type);
  nb::register_exception_translator(translate_exceptions);

  m.def("method_names", &rlhash::method_names<>);
  m.def("fashion_mnist", &fashion_mnist, "dir"_a);
  m.def("simd_path", [] { return rlhash::to_string(rlhash::active_simd_path()); });

  nb::class_<rlhash::ImageAugmentation>(m, "ImageAugmentation")
      .def(nb::init<>())
      .def_rw("height", &rlhash::ImageAugmentation::height)
      .def_rw("width", &rlhash::ImageAugmentation::width)
      .def_rw("channels", &rlhash::ImageAugmentation::channels)
      .def_rw("max_shift", &rlhash::ImageAugmentation::max_shift)
      .def_rw("horizontal_flip", &rlhash::ImageAugmentation::horizontal_flip);

  nb::class_<PyModel>(m, "Model")
      .def(nb::init<const std::string&, int, std::uint64_t>(), "method"_a, "bits"_a, "seed"_a)
      .def_prop_ro("method", &PyModel::method)
      .def_prop_ro("bits", &PyModel::bits)
      .def_prop_ro("fitted", &PyModel::fitted)
      .def("config", &PyModel::config)
      .def("preprocess_config", &PyModel::preprocess_config)
      .def("set", &PyModel::set, "field"_a, "value"_a)
      .def("set_preprocess", &PyModel::set_preprocess, "field"_a, "value"_a)
      .def("fit", &PyModel::fit, "x"_a.noconvert(), "labels"_a.none(), "validation_x"_a.none(),
           "validation_labels"_a.none(), "threads"_a, "progress"_a.none(), "augmentation"_a)
      .def("encode", &PyModel::encode, "x"_a.noconvert(), "threads"_a)
      .def("save", &PyModel::save, "path"_a)
      .def_static("load", &PyModel::load, "path"_a);

  m.def(
      "knn",
      [](const WordArray& queries, const WordArray& database, int bits, Index k, int threads) {
        const auto q = codes_view(queries, bits, "queries");
        const auto db = codes_view(database, bits, "database");
        return knn_tuple(without_gil([&] { return rlhash::knn_search(q, db, k, threads); }));
      },
      "queries"_a.noconvert(), "database"_a.noconvert(), "bits"_a, "k"_a, "threads"_a);
  m.def(
      "range_search",
      [](const WordArray& queries, const WordArray& database, int bits, int radius, int threads) {
        const auto q = codes_view(queries, bits, "queries");
        const auto db = codes_view(database, bits, "database");
        return range_tuple(without_gil([&] { return rlhash::range_search(q, db, radius, threads); }));
      },
      "queries"_a.noconvert(), "database"_a.noconvert(), "bits"_a, "radius"_a, "threads"_a);

  m.def("metrics", &metrics, "query_codes"_a.noconvert(), "db_codes"_a.noconvert(), "bits"_a,
        "query_labels"_a, "db_labels"_a, "map_at"_a, "precision_at"_a, "ndcg_at"_a, "radius"_a, "threads"_a,
        "exclude_self"_a, "whole_ranking"_a);

  nb::class_<rlhash::HammingIndex>(m, "HammingIndex")
      .def(nb::init<int>(), "bits"_a)
      .def_prop_ro("bits", &rlhash::HammingIndex::bits)
      .def("__len__", [](const rlhash::HammingIndex& index) { return index.size(); })
      .def_prop_ro("is_mapped", &rlhash::HammingIndex::is_mapped)
      .def(
          "add",
          [](rlhash::HammingIndex& index, const WordArray& codes, const IdArray& ids) {
            const auto view = codes_view(codes, index.bits(), "codes");
            std::vector<std::int64_t> id_list(ids.data(), ids.data() + ids.shape(0));
            nb::gil_scoped_release released;
            index.add(view, id_list);
          },
          "codes"_a.noconvert(), "ids"_a.noconvert())
      .def(
          "remove",
          [](rlhash::HammingIndex& index, const IdArray& ids) {
            return index.remove(std::vector<std::int64_t>(ids.data(), ids.data() + ids.shape(0)));
          },
          "ids"_a.noconvert())
      .def("ids",
           [](const rlhash::HammingIndex& index) {
             std::vector<std::int64_t> ids(index.id_data(), index.id_data() + index.size());
             return to_numpy(std::move(ids), {static_cast<std::size_t>(index.size())});
           })
      .def(
          "search",
          [](const rlhash::HammingIndex& index, const WordArray& queries, Index k, int threads) {
            const auto q = codes_view(queries, index.bits(), "queries");
            return knn_tuple(without_gil([&] { return index.knn(q, k, threads); }));
          },
          "queries"_a.noconvert(), "k"_a, "threads"_a)
      .def(
          "range",
          [](const rlhash::HammingIndex& index, const WordArray& queries, int radius, int threads) {
            const auto q = codes_view(queries, index.bits(), "queries");
            return range_tuple(without_gil([&] { return index.range(q, radius, threads); }));
          },
          "queries"_a.noconvert(), "radius"_a, "threads"_a)
      .def(
          "save",
          [](const rlhash::HammingIndex& index, const std::string& path) {
            nb::gil_scoped_release released;
            index.save(path);
          },
          "path"_a)
      .def_static(
          "load",
          [](const std::string& path, bool mmap) {
            return without_gil([&] {
              return mmap ? rlhash::HammingIndex::open_mmap(path) : rlhash::HammingIndex::load(path);
            });
          },
          "path"_a, "mmap"_a);

  nb::class_<rlhash::BchCode>(m, "BchCode")
      .def(nb::init<int, int, std::uint32_t>(), "m"_a, "t"_a, "primitive"_a)
      .def_prop_ro("m", &rlhash::BchCode::m)
      .def_prop_ro("n", &rlhash::BchCode::n)
      .def_prop_ro("k", &rlhash::BchCode::k)
      .def_prop_ro("t", &rlhash::BchCode::t)
      .def_prop_ro("t_effective", &rlhash::BchCode::t_effective)
      .def_prop_ro("designed_distance", &rlhash::BchCode::designed_distance)
      .def_prop_ro("parity_bits", &rlhash::BchCode::parity_bits)
      .def_prop_ro("primitive", &rlhash::BchCode::primitive_polynomial)
      .def_prop_ro("generator", [](const rlhash::BchCode& c) { return c.generator().hex(); })
      .def("encode", &bch_encode, "messages"_a.noconvert())
      .def("decode", &bch_decode, "words"_a.noconvert());

  nb::class_<rlhash::LabelEmbedding>(m, "LabelEmbedding")
      .def(
          "__init__",
          [](rlhash::LabelEmbedding* self, int classes, int bits, std::uint64_t seed,
             const std::string& fill) {
            new (self)
                rlhash::LabelEmbedding(classes, bits, seed, rlhash::parse_label_code_fill(fill, "fill"));
          },
          "classes"_a, "bits"_a, "seed"_a, "fill"_a = "paper")
      .def_prop_ro("fill",
                   [](const rlhash::LabelEmbedding& e) { return rlhash::label_code_fill_name(e.fill()); })
      .def_prop_ro("classes", &rlhash::LabelEmbedding::num_classes)
      .def_prop_ro("bits", &rlhash::LabelEmbedding::bits)
      .def_prop_ro("seed", &rlhash::LabelEmbedding::seed)
      .def_prop_ro("m", &rlhash::LabelEmbedding::m)
      .def_prop_ro("t", &rlhash::LabelEmbedding::t)
      .def_prop_ro("padding", &rlhash::LabelEmbedding::padding)
      .def_prop_ro("description", &rlhash::LabelEmbedding::description)
      .def_prop_ro("construction",
                   [](const rlhash::LabelEmbedding& e) {
                     return e.construction() == rlhash::LabelEmbedding::Construction::padded
                                ? "padded"
                                : "shortened_punctured";
                   })
      .def_prop_ro("min_distance", &rlhash::LabelEmbedding::min_distance)
      .def_prop_ro("mean_distance", &rlhash::LabelEmbedding::mean_distance)
      .def_prop_ro("radius", &rlhash::LabelEmbedding::radius)
      .def("codeword_words", [](const rlhash::LabelEmbedding& e) { return words_to_numpy(e.codewords()); })
      .def("nearest_class", &nearest_class, "codes"_a.noconvert());
}
