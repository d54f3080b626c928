pub mod egress;
pub mod host;
pub mod model;
