#pragma once
/// \file
/// Feature preprocessing fitted on the training set and stored in every model, so encoding
/// applies exactly what training saw and never refits: scaling, mean-centering, PCA to d
/// dimensions, L2 normalisation (applied in that order).
#include <Eigen/Eigenvalues>
#include <cmath>
#include <string>

#include "rlhash/core/config.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash {

struct PreprocessConfig {
  double scale = 1.0;         ///< every feature is multiplied by this first (1/255 for raw pixels)
  bool center = false;        ///< subtract the training mean
  int pca_dims = 0;           ///< project onto the top principal components (0 = off)
  bool l2_normalize = false;  ///< scale each item to unit Euclidean norm last
  template <class V>
  void visit(V&& field) {
    field("scale", scale);
    field("center", center);
    field("pca_dims", pca_dims);
    field("l2_normalize", l2_normalize);
  }
};

class Preprocessor {
 public:
  Preprocessor() = default;
  explicit Preprocessor(PreprocessConfig config) : config_(config) {}

  /// Learns the mean and principal directions from training features (D x N).
  void fit(const Eigen::Ref<const MatrixF>& train) {
    if (train.cols() == 0) throw InvalidArgument("preprocess: cannot fit on an empty training set");
    if (config_.pca_dims < 0 || config_.pca_dims > train.rows())
      throw InvalidArgument("preprocess: pca_dims = " + std::to_string(config_.pca_dims) + ", expected 0.." +
                            std::to_string(train.rows()));
    input_dims_ = train.rows();
    const bool needs_mean = config_.center || config_.pca_dims > 0;
    mean_ = needs_mean ? VectorF((train * static_cast<float>(config_.scale)).rowwise().mean()) : VectorF();
    projection_.resize(0, 0);
    if (config_.pca_dims > 0) fit_pca(train);
    fitted_ = true;
  }

  /// Applies the fitted transform to features of the training dimension.
  MatrixF apply(const Eigen::Ref<const MatrixF>& features) const {
    if (!fitted_) throw StateError("preprocess: apply() called before fit()");
    if (features.rows() != input_dims_)
      throw InvalidArgument("preprocess: features have " + std::to_string(features.rows()) +
                            " dimensions, the model was trained on " + std::to_string(input_dims_));
    MatrixF out = features * static_cast<float>(config_.scale);
    if (mean_.size() > 0) out.colwise() -= mean_;
    if (config_.pca_dims > 0) out = (projection_.transpose() * out).eval();
    if (config_.l2_normalize) {
      for (Index i = 0; i < out.cols(); ++i) {
        const float norm = out.col(i).norm();
        if (norm > 0) out.col(i) /= norm;
      }
    }
    return out;
  }

  Index input_dims() const { return input_dims_; }
  Index output_dims() const { return config_.pca_dims > 0 ? config_.pca_dims : input_dims_; }
  const PreprocessConfig& config() const { return config_; }
  bool fitted() const { return fitted_; }

  void save(ByteWriter& out) const {
    if (!fitted_) throw StateError("preprocess: save() called before fit()");
    save_config(out, config_);
    out.put<std::int64_t>(input_dims_);
    out.put_matrix(mean_);
    out.put_matrix(projection_);
  }
  void load(ByteReader& in) {
    config_ = load_config<PreprocessConfig>(in);
    input_dims_ = in.get<std::int64_t>();
    const MatrixF mean = in.get_matrix<float>();
    projection_ = in.get_matrix<float>();
    mean_ = mean.size() > 0 ? VectorF(mean.col(0)) : VectorF();
    if (input_dims_ <= 0 || (mean_.size() != 0 && mean_.size() != input_dims_) ||
        (config_.pca_dims > 0 &&
         (projection_.rows() != input_dims_ || projection_.cols() != config_.pca_dims)))
      in.fail("preprocessing parameters consistent with their config");
    fitted_ = true;
  }

 private:
  void fit_pca(const Eigen::Ref<const MatrixF>& train) {
    // Covariance in double: float sums over tens of thousands of items lose the small
    // eigenvalues' directions.
    const MatrixD centered = ((train * static_cast<float>(config_.scale)).colwise() - mean_).cast<double>();
    const MatrixD covariance = centered * centered.transpose() / static_cast<double>(train.cols());
    Eigen::SelfAdjointEigenSolver<MatrixD> solver(covariance);
    if (solver.info() != Eigen::Success) throw Error("preprocess: PCA eigen-decomposition did not converge");
    // Eigenvalues ascend; keep the last pca_dims columns, largest first.
    projection_ = solver.eigenvectors().rightCols(config_.pca_dims).rowwise().reverse().cast<float>();
  }

  PreprocessConfig config_;
  bool fitted_ = false;
  Index input_dims_ = 0;
  VectorF mean_;
  MatrixF projection_;  // D x pca_dims
};

}  // namespace rlhash
