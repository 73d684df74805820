//! Certificates for the convex case (in progress).
